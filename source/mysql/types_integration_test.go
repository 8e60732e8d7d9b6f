//go:build integration

package mysql

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/schema"
)

const typesDDL = `CREATE TABLE alltypes (
	id INT PRIMARY KEY,
	d65 DECIMAL(65,30) NULL, d10 DECIMAL(10,2) NULL, bu BIGINT UNSIGNED NULL, iu INT UNSIGNED NULL,
	ti TINYINT NULL, su SMALLINT UNSIGNED NULL, mi MEDIUMINT NULL, bi BIGINT NULL,
	f FLOAT NULL, db DOUBLE NULL,
	dt DATETIME(6) NULL, ts TIMESTAMP(6) NULL, dd DATE NULL, tm TIME(6) NULL, yr YEAR NULL,
	vc VARCHAR(50) NULL, tx TEXT NULL, bn BINARY(4) NULL, vb VARBINARY(10) NULL, bl BLOB NULL,
	js JSON NULL, en ENUM('a','b','c') NULL, st SET('x','y','z') NULL,
	b1 BIT(1) NULL, b64 BIT(64) NULL, g GEOMETRY NULL,
	dz DATE NOT NULL DEFAULT '2000-01-01', dtz DATETIME NULL
) DEFAULT CHARSET=utf8mb4`

const d65Text = "12345678901234567890123456789012345.123456789012345678901234567890"

// insertTypes writes the three probe rows with ids base+1..base+3: edge
// values, all NULL, zero dates. The TIMESTAMP is written in a +05:30
// session.
func insertTypes(t *testing.T, m *containers.MySQL, db string, base int) {
	t.Helper()
	d := openDBT(t, m, db)
	conn, err := d.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"SET time_zone='+05:30'",
		"SET sql_mode=''",
		`INSERT INTO alltypes (id,d65,d10,bu,iu,ti,su,mi,bi,f,db,dt,ts,dd,tm,yr,vc,tx,bn,vb,bl,js,en,st,b1,b64,g,dz,dtz) VALUES (?,
			'` + d65Text + `', -12345678.91, 18446744073709551615, 4294967295,
			-128, 65535, -8388608, -9223372036854775808, 1.5, -2.5e-300,
			'1969-07-20 20:17:40.123456', '2024-01-01 10:00:00.123456', '2024-02-29', '-838:59:59.000000', 2155,
			'héllo 🌍', 'some text', x'0102', x'00ff', x'deadbeef',
			'{"a": [1, 2.5, "x"], "b": null}', 'b', 'z,x', b'1', b'1000000000000000000000000000000000000000000000000000000000000001',
			ST_GeomFromText('POINT(1 2)'), '2001-02-03', '2020-05-06 07:08:09')`,
		`INSERT INTO alltypes (id) VALUES (?)`,
		`INSERT INTO alltypes (id, dd, dt, ts, dz, dtz) VALUES (?, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00', '0000-00-00 00:00:00')`,
	} {
		var args []any
		switch {
		case strings.Contains(q, "(id) VALUES"):
			args = []any{base + 2}
		case strings.Contains(q, "'0000-00-00'"):
			args = []any{base + 3}
		case strings.HasPrefix(q, "INSERT"):
			args = []any{base + 1}
		}
		if _, err := conn.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func days(y int, m time.Month, d int) int32 {
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// expectedTypes returns the expected After image (without id) of the three
// probe rows, by column name.
func expectedTypes() []map[string]any {
	bu, _ := new(big.Int).SetString("18446744073709551615", 10)
	wkb := new(bytes.Buffer)
	wkb.Write([]byte{1, 1, 0, 0, 0})
	_ = binary.Write(wkb, binary.LittleEndian, 1.0)
	_ = binary.Write(wkb, binary.LittleEndian, 2.0)
	edge := map[string]any{
		"d65": d65Text,
		"d10": schema.Decimal{Unscaled: big.NewInt(-1234567891), Scale: 2},
		"bu":  schema.Decimal{Unscaled: bu, Scale: 0},
		"iu":  int64(4294967295), "ti": int32(-128), "su": int32(65535), "mi": int32(-8388608),
		"bi": int64(math.MinInt64), "f": float32(1.5), "db": -2.5e-300,
		"dt": time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC).UnixMicro(),
		"ts": time.Date(2024, 1, 1, 4, 30, 0, 123456000, time.UTC).UnixMicro(),
		"dd": days(2024, 2, 29),
		"tm": -(838*3600 + 59*60 + 59) * int64(1_000_000),
		"yr": int32(2155), "vc": "héllo 🌍", "tx": "some text",
		"bn": []byte{1, 2, 0, 0}, "vb": []byte{0, 0xff}, "bl": []byte{0xde, 0xad, 0xbe, 0xef},
		"js": `{"a": [1, 2.5, "x"], "b": null}`, "en": "b", "st": "x,z", "b1": true,
		"b64": []byte{0x80, 0, 0, 0, 0, 0, 0, 1}, "g": wkb.Bytes(),
		"dz": days(2001, 2, 3), "dtz": time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC).UnixMicro(),
	}
	null := map[string]any{"dz": days(2000, 1, 1)}
	zero := map[string]any{"dd": nil, "dt": nil, "ts": nil, "dz": int32(0), "dtz": nil}
	return []map[string]any{edge, null, zero}
}

func checkRow(t *testing.T, what string, tbl *schema.Table, row []any, want map[string]any) {
	t.Helper()
	for i, c := range tbl.Columns {
		if c.Name == "id" {
			continue
		}
		w := want[c.Name]
		got := row[i]
		if c.Name == "js" && w != nil && got != nil {
			var a, b any
			if err := json.Unmarshal([]byte(got.(string)), &a); err != nil {
				t.Errorf("%s: js %q is not JSON: %v", what, got, err)
				continue
			}
			_ = json.Unmarshal([]byte(w.(string)), &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: js = %s, want %s", what, got, w)
			}
			continue
		}
		if wd, ok := w.(schema.Decimal); ok {
			gd, ok := got.(schema.Decimal)
			if !ok || !gd.Equal(wd) || gd.Scale != int32(c.Scale) {
				t.Errorf("%s: %s = %#v, want %s (scale %d)", what, c.Name, got, wd, c.Scale)
			}
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %s (%s) = %#v (%T), want %#v (%T)", what, c.Name, c.SourceType, got, got, w, w)
		}
	}
}

// TestTypesRoundTrip checks every type's value from the snapshot (text
// protocol) and from the binlog against the expected Go values, on both
// flavors.
func TestTypesRoundTrip(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			exec(t, d, typesDDL)
			insertTypes(t, m, db, 0)
			cfg := baseConfig(m, db)
			cfg[KeySnapshotMode] = SnapshotInitial
			r := startRunner(t, "types-"+string(f), cfg, newMemStore(), true)
			defer r.stop()
			r.waitFor("snapshot reads", 30*time.Second, atLeast("alltypes", connect.OpRead, 3))
			insertTypes(t, m, db, 10)
			exec(t, d, "UPDATE alltypes SET vc='x' WHERE id=11")
			exec(t, d, "DELETE FROM alltypes WHERE id=12")
			evs := r.waitFor("binlog events", 30*time.Second, atLeast("alltypes", connect.OpDelete, 1))
			want := expectedTypes()
			var reads, creates []*connect.ChangeEvent
			for _, e := range evs {
				switch e.Op {
				case connect.OpRead:
					reads = append(reads, e)
				case connect.OpCreate:
					creates = append(creates, e)
				}
			}
			if len(reads) != 3 || len(creates) != 3 {
				t.Fatalf("got %d reads and %d creates, want 3 and 3", len(reads), len(creates))
			}
			for i := 0; i < 3; i++ {
				if !reads[i].Source.Snapshot || reads[i].After[0] != int32(i+1) {
					t.Errorf("read %d: %s", i, describe(reads[i]))
				}
				checkRow(t, "snapshot row "+string(rune('1'+i)), reads[i].Schema, reads[i].After, want[i])
				if creates[i].After[0] != int32(11+i) || creates[i].Source.Snapshot {
					t.Errorf("create %d: %s", i, describe(creates[i]))
				}
				checkRow(t, "binlog row "+string(rune('1'+i)), creates[i].Schema, creates[i].After, want[i])
			}
			var upd, del *connect.ChangeEvent
			for _, e := range evs {
				switch e.Op {
				case connect.OpUpdate:
					upd = e
				case connect.OpDelete:
					del = e
				}
			}
			if upd == nil || !reflect.DeepEqual(upd.Before, creates[0].After) || upd.After[upd.Schema.ColumnIndex("vc")] != "x" {
				t.Errorf("update event wrong: %v", upd)
			}
			if del == nil || !reflect.DeepEqual(del.Before, creates[1].After) || del.After != nil {
				t.Errorf("delete event wrong: %v", del)
			}
			// Sequences strictly increase by one in emission order.
			for i := 1; i < len(evs); i++ {
				if evs[i].Source.Sequence != evs[i-1].Source.Sequence+1 {
					t.Fatalf("sequence gap: %s then %s", describe(evs[i-1]), describe(evs[i]))
				}
			}
			tbl := creates[0].Schema
			if !reflect.DeepEqual(tbl.PrimaryKey, []int{0}) || tbl.Columns[tbl.ColumnIndex("d65")].Kind != schema.KindString ||
				tbl.Columns[tbl.ColumnIndex("bu")].Kind != schema.KindDecimal || tbl.Columns[tbl.ColumnIndex("ts")].Kind != schema.KindTimestampTZ {
				t.Errorf("schema wrong: %+v", tbl)
			}
		})
	}
}
