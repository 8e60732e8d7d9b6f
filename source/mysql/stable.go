package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Table definitions are read from information_schema while the server keeps
// writing, so the binlog moves during the read. A definition read between
// binlog positions from and to is the definition at from exactly when no
// statement between them can have changed a table: DML moves the binlog but
// changes no definition. schemaStable checks that with SHOW BINLOG EVENTS
// (the REPLICATION SLAVE privilege the stream needs already allows it).

// maxStableScan bounds the events schemaStable reads; a longer range (a
// source far behind its server) counts as not provably stable.
const maxStableScan = 200_000

// stablePage is how many events one SHOW BINLOG EVENTS returns.
const stablePage = 10_000

var binlogFileName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// schemaStable reports whether the binlog between from (an event start) and
// to (the end of the last event) holds only row events and transaction
// boundaries. It answers false, without an error, when it finds any other
// statement or the range holds more than maxStableScan events.
func schemaStable(ctx context.Context, db *sql.DB, from, to binlogPos) (bool, error) {
	if from == to {
		return true, nil
	}
	if to.less(from) {
		return false, fmt.Errorf("checking the binlog from %s:%d to %s:%d: the end is before the start", from.File, from.Pos, to.File, to.Pos)
	}
	files := []string{from.File}
	if from.File != to.File {
		all, err := binlogFiles(ctx, db)
		if err != nil {
			return false, err
		}
		i, j := slices.Index(all, from.File), slices.Index(all, to.File)
		if i < 0 || j < i {
			return false, nil // purged or rotated away meanwhile: cannot prove it
		}
		files = all[i : j+1]
	}
	seen := 0
	for fi, file := range files {
		if !binlogFileName.MatchString(file) {
			return false, fmt.Errorf("unexpected binlog file name %q", file)
		}
		pos := uint32(4) // the first event of a file
		if fi == 0 {
			pos = from.Pos
		}
		last := file == to.File
		for {
			q := fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d LIMIT %d", file, pos, stablePage)
			evs, err := binlogEvents(ctx, db, q)
			if err != nil {
				return false, err
			}
			for _, e := range evs {
				if last && e.pos >= to.Pos {
					return true, nil
				}
				if e.typ == "Query" && !boundaryStatement(e.info) {
					return false, nil
				}
				pos = e.end
			}
			seen += len(evs)
			if seen > maxStableScan {
				return false, nil
			}
			if len(evs) < stablePage {
				break // the end of this file
			}
		}
	}
	return true, nil // the end of to.File, the last of files
}

// binlogEvent is one row of SHOW BINLOG EVENTS.
type binlogEvent struct {
	pos, end uint32
	typ      string
	info     string
}

func binlogEvents(ctx context.Context, db *sql.DB, q string) ([]binlogEvent, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, classify(err, "reading binlog events")
	}
	defer func() { _ = rows.Close() }()
	var out []binlogEvent
	for rows.Next() {
		var (
			logName, typ string
			pos, end     uint64
			serverID     uint64
			info         sql.NullString
		)
		if err := rows.Scan(&logName, &pos, &typ, &serverID, &end, &info); err != nil {
			return nil, fmt.Errorf("reading binlog events: %w", err)
		}
		out = append(out, binlogEvent{pos: uint32(pos), end: uint32(end), typ: typ, info: info.String})
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, "reading binlog events")
	}
	return out, nil
}

// boundaryStatement reports whether a Query event's text is a transaction
// boundary rather than a statement that may change a table.
func boundaryStatement(info string) bool {
	s := strings.ToUpper(strings.TrimSpace(info))
	for _, p := range []string{"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "XA"} {
		if s == p || strings.HasPrefix(s, p+" ") || strings.HasPrefix(s, p+"/*") {
			return true
		}
	}
	return false
}
