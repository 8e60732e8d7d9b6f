package mysql

import (
	"fmt"
	"regexp"
)

// systemDatabases are never captured unless explicitly included.
var systemDatabases = map[string]bool{
	"mysql": true, "information_schema": true, "performance_schema": true, "sys": true,
}

// Filter decides which databases, tables and columns are captured, with
// Debezium's semantics: each list holds regular expressions that must match
// the whole identifier ("db", "db.table", "db.table.column"),
// case-insensitively; an include list, when set, admits only what it
// matches; exclusions win.
type Filter struct {
	dbInclude, tableInclude, tableExclude, columnExclude []*regexp.Regexp
}

func compileAll(ps []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(ps))
	for _, p := range ps {
		re, err := regexp.Compile("(?i)^(?:" + p + ")$")
		if err != nil {
			return nil, fmt.Errorf("compiling filter %q: %w", p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// NewFilter compiles the four filter lists.
func NewFilter(dbInclude, tableInclude, tableExclude, columnExclude []string) (*Filter, error) {
	f := &Filter{}
	var err error
	if f.dbInclude, err = compileAll(dbInclude); err != nil {
		return nil, err
	}
	if f.tableInclude, err = compileAll(tableInclude); err != nil {
		return nil, err
	}
	if f.tableExclude, err = compileAll(tableExclude); err != nil {
		return nil, err
	}
	if f.columnExclude, err = compileAll(columnExclude); err != nil {
		return nil, err
	}
	return f, nil
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Database reports whether tables of db may be captured.
func (f *Filter) Database(db string) bool {
	if len(f.dbInclude) > 0 {
		return anyMatch(f.dbInclude, db)
	}
	return !systemDatabases[db]
}

// Table reports whether db.table is captured.
func (f *Filter) Table(db, table string) bool {
	if !f.Database(db) {
		return false
	}
	q := db + "." + table
	if len(f.tableInclude) > 0 && !anyMatch(f.tableInclude, q) {
		return false
	}
	return !anyMatch(f.tableExclude, q)
}

// Column reports whether column of db.table is kept in events.
func (f *Filter) Column(db, table, column string) bool {
	if len(f.columnExclude) == 0 {
		return true
	}
	return !anyMatch(f.columnExclude, db+"."+table+"."+column)
}
