package tables

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/binlake/binlake/schema"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Ref names a table.
type Ref struct{ DB, Name string }

// String returns "db.table".
func (r Ref) String() string { return r.DB + "." + r.Name }

// Change is what one DDL statement did to the tracked tables.
type Change struct {
	// Changed holds the new current versions of tables whose version changed.
	Changed []*schema.Table
	// Dropped lists tables no longer tracked (dropped or renamed away).
	Dropped []Ref
	// Truncated lists captured tables that were truncated.
	Truncated []Ref
	// Reread lists captured tables whose new definition this package cannot
	// derive from the statement; the caller must read them from the server
	// (only when that is provably the state right after this statement) or
	// fail.
	Reread []Ref
	// Ignored is set, to the kind of object the statement defines (trigger,
	// view, procedure, ...), for a statement the parser rejects that cannot
	// change any table's columns or key: the caller logs it and goes on.
	Ignored string
}

// ErrUnparsed is returned (wrapped) for a statement the parser rejects that
// may touch a captured table. The caller must not skip it silently.
var ErrUnparsed = errors.New("unparseable DDL")

// UnparsedError carries the tables an unparseable statement may touch.
type UnparsedError struct {
	Stmt   string
	Tables []Ref
	Err    error
}

// Error returns the parser's message and the statement.
func (e *UnparsedError) Error() string {
	return fmt.Sprintf("%v: parsing DDL %q: %v", ErrUnparsed, e.Stmt, e.Err)
}

// Unwrap lets errors.Is match ErrUnparsed.
func (e *UnparsedError) Unwrap() error { return ErrUnparsed }

// DDL applies DDL statements to a Tracker.
type DDL struct {
	p *parser.Parser
}

// NewDDL returns a DDL applier (one per goroutine: the parser is stateful).
func NewDDL() *DDL {
	p := parser.New()
	p.SetParserConfig(parser.ParserConfig{EnableWindowFunction: true, EnableStrictDoubleTypeCheck: true})
	return &DDL{p: p}
}

var ddlWord = regexp.MustCompile(`(?is)^\s*(/\*.*?\*/\s*)*(alter|create|drop|rename|truncate)\b`)

// quotedOrWord is one identifier or account part: quoted with `, ' or ", or bare.
const quotedOrWord = "(?:`[^`]*`|'[^']*'|\"[^\"]*\"|[\\w$.%-]+)"

// otherObject matches the CREATE, ALTER and DROP statements of objects that
// are not tables (triggers, views, stored programs, events, accounts,
// tablespaces, ...), with the clauses MySQL and MariaDB write before the
// object keyword (OR REPLACE, ALGORITHM, DEFINER, SQL SECURITY, AGGREGATE).
// Such a statement changes no table's columns or key: TiDB's parser rejects
// several of them (CREATE TRIGGER, stored program bodies), and they must not
// fail a connector whose tables happen to be named in their body. A
// trigger's own writes reach the binlog as row events.
var otherObject = regexp.MustCompile(`(?is)^\s*(?:/\*.*?\*/\s*)*(?:create|alter|drop)\s+` +
	`(?:or\s+replace\s+)?(?:algorithm\s*=\s*\w+\s+)?` +
	`(?:definer\s*=\s*(?:current_user(?:\s*\(\s*\))?|` + quotedOrWord + `(?:\s*@\s*` + quotedOrWord + `)?)\s+)?` +
	`(?:sql\s+security\s+\w+\s+)?(?:aggregate\s+)?` +
	`(trigger|view|procedure|function|event|user|role|server|undo\s+tablespace|tablespace|logfile\s+group|` +
	`resource\s+group|spatial\s+reference\s+system|sequence|package(?:\s+body)?)\b`)

// Apply applies stmt (run with default database defaultDB) to tr for the
// tables captured reports true for.
func (d *DDL) Apply(tr *Tracker, defaultDB, stmt string, captured func(db, name string) bool) (Change, error) {
	var ch Change
	nodes, _, err := d.p.Parse(rewriteSpatial(stmt), "", "")
	if err != nil {
		if !ddlWord.MatchString(stmt) {
			return ch, nil // not a table DDL (e.g. a server-specific admin statement)
		}
		if m := otherObject.FindStringSubmatch(stmt); m != nil {
			ch.Ignored = strings.ToLower(strings.Join(strings.Fields(m[1]), " "))
			return ch, nil
		}
		refs := mentioned(tr, defaultDB, stmt, captured)
		if len(refs) == 0 {
			return ch, nil
		}
		return ch, &UnparsedError{Stmt: stmt, Tables: refs, Err: err}
	}
	name := func(tn *ast.TableName) Ref {
		db := tn.Schema.O
		if db == "" {
			db = defaultDB
		}
		return Ref{DB: db, Name: tn.Name.O}
	}
	for _, n := range nodes {
		switch s := n.(type) {
		case *ast.CreateTableStmt:
			r := name(s.Table)
			if !captured(r.DB, r.Name) || s.TemporaryKeyword != ast.TemporaryNone {
				continue
			}
			if s.IfNotExists && tr.Get(r.DB, r.Name) != nil {
				continue
			}
			if s.ReferTable != nil {
				src := name(s.ReferTable)
				if st := tr.Get(src.DB, src.Name); st != nil {
					cp := *st
					cp.Database, cp.Name = r.DB, r.Name
					cp.Columns = append([]schema.Column(nil), st.Columns...)
					for i := range cp.Columns {
						cp.Columns[i].Aliases = nil
					}
					ch.Changed = append(ch.Changed, tr.Put(&cp))
				} else {
					ch.Reread = append(ch.Reread, r)
				}
				continue
			}
			if s.Select != nil {
				ch.Reread = append(ch.Reread, r)
				continue
			}
			t, err := createTable(r, s)
			if err != nil {
				return ch, fmt.Errorf("applying %q: %w", stmt, err)
			}
			ch.Changed = append(ch.Changed, tr.Put(t))
		case *ast.DropTableStmt:
			if s.IsView {
				continue
			}
			for _, tn := range s.Tables {
				r := name(tn)
				if tr.Get(r.DB, r.Name) != nil {
					tr.Drop(r.DB, r.Name)
					ch.Dropped = append(ch.Dropped, r)
				}
			}
		case *ast.TruncateTableStmt:
			r := name(s.Table)
			if tr.Get(r.DB, r.Name) != nil {
				ch.Truncated = append(ch.Truncated, r)
			}
		case *ast.RenameTableStmt:
			for _, tt := range s.TableToTables {
				d.rename(tr, name(tt.OldTable), name(tt.NewTable), captured, &ch)
			}
		case *ast.DropDatabaseStmt:
			for _, t := range tr.Tables() {
				if t.Database == s.Name.O {
					tr.Drop(t.Database, t.Name)
					ch.Dropped = append(ch.Dropped, Ref{t.Database, t.Name})
				}
			}
		case *ast.AlterTableStmt:
			r := name(s.Table)
			cur := tr.Get(r.DB, r.Name)
			if cur == nil {
				// Renamed into capture by ALTER TABLE ... RENAME: read it.
				for _, sp := range s.Specs {
					if sp.Tp == ast.AlterTableRenameTable {
						nr := name(sp.NewTable)
						if captured(nr.DB, nr.Name) {
							ch.Reread = append(ch.Reread, nr)
						}
					}
				}
				continue
			}
			if err := d.alter(tr, cur, r, s, stmt, captured, &ch); err != nil {
				return ch, err
			}
		}
	}
	return ch, nil
}

func (d *DDL) rename(tr *Tracker, from, to Ref, captured func(db, name string) bool, ch *Change) {
	cur := tr.Get(from.DB, from.Name)
	if cur != nil {
		tr.Drop(from.DB, from.Name)
		ch.Dropped = append(ch.Dropped, from)
	}
	if !captured(to.DB, to.Name) {
		return
	}
	if cur == nil {
		ch.Reread = append(ch.Reread, to)
		return
	}
	cp := *cur
	cp.Database, cp.Name = to.DB, to.Name
	ch.Changed = append(ch.Changed, tr.Put(&cp))
}

// mentioned returns the captured tables stmt may name: those whose name
// occurs in it as a word, qualified with the table's database or, when
// unqualified, run in that database (or with no default database).
func mentioned(tr *Tracker, defaultDB, stmt string, captured func(db, name string) bool) []Ref {
	var out []Ref
	for _, t := range tr.Tables() {
		if !captured(t.Database, t.Name) {
			continue
		}
		for _, qual := range qualifiersOf(stmt, t.Name) {
			if strings.EqualFold(qual, t.Database) || (qual == "" && (defaultDB == "" || strings.EqualFold(defaultDB, t.Database))) {
				out = append(out, Ref{t.Database, t.Name})
				break
			}
		}
	}
	return out
}

// qualifiersOf returns, for every occurrence of name in stmt as a whole word
// (bare or in backticks, case-insensitively), the database it is qualified
// with ("db.name", "`db`.`name`"), or "" for an unqualified occurrence.
func qualifiersOf(stmt, name string) []string {
	var out []string
	low, n := strings.ToLower(stmt), strings.ToLower(name)
	for from := 0; ; {
		k := strings.Index(low[from:], n)
		if k < 0 {
			return out
		}
		i, j := from+k, from+k+len(n)
		from = i + 1
		if (i > 0 && identByte(low[i-1])) || (j < len(low) && identByte(low[j])) {
			continue // part of a longer word
		}
		p := i
		if p > 0 && low[p-1] == '`' {
			p--
		}
		p = skipSpaceBack(low, p)
		if p == 0 || low[p-1] != '.' {
			out = append(out, "")
			continue
		}
		p = skipSpaceBack(low, p-1)
		end := p
		if p > 0 && low[p-1] == '`' {
			start := strings.LastIndexByte(low[:p-1], '`')
			if start < 0 {
				out = append(out, "")
				continue
			}
			out = append(out, stmt[start+1:p-1])
			continue
		}
		for p > 0 && identByte(low[p-1]) {
			p--
		}
		out = append(out, stmt[p:end])
	}
}

func identByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func skipSpaceBack(s string, p int) int {
	for p > 0 && (s[p-1] == ' ' || s[p-1] == '\t' || s[p-1] == '\n' || s[p-1] == '\r') {
		p--
	}
	return p
}

func createTable(r Ref, s *ast.CreateTableStmt) (*schema.Table, error) {
	var specs []ColumnSpec
	var pk []string
	for _, c := range s.Cols {
		cs, isPK, err := specOf(c)
		if err != nil {
			return nil, err
		}
		specs = append(specs, cs)
		if isPK {
			pk = []string{cs.Name}
		}
	}
	for _, con := range s.Constraints {
		if con.Tp == ast.ConstraintPrimaryKey {
			pk = pk[:0]
			for _, k := range con.Keys {
				if k.Column != nil {
					pk = append(pk, k.Column.Name.O)
				}
			}
		}
	}
	// Primary key columns are NOT NULL even when not declared so.
	for i := range specs {
		for _, k := range pk {
			if strings.EqualFold(specs[i].Name, k) {
				specs[i].Nullable = false
				if specs[i].DefaultNull {
					specs[i].DefaultNull = false
				}
			}
		}
	}
	return NewTable(r.DB, r.Name, 0, specs, pk)
}

// specOf maps a parsed column definition; isPK reports an inline PRIMARY KEY.
func specOf(c *ast.ColumnDef) (cs ColumnSpec, isPK bool, err error) {
	cs = ColumnSpec{Name: c.Name.Name.O, Nullable: true}
	if c.Tp == nil {
		return cs, false, fmt.Errorf("column %q has no type", cs.Name)
	}
	ft := c.Tp
	typ := ft.InfoSchemaStr()
	if ft.GetType() == mysql.TypeVarchar && ft.GetFlen() >= spatialMarker && ft.GetFlen() < spatialMarker+len(spatialTypes) {
		typ = spatialTypes[ft.GetFlen()-spatialMarker]
	}
	if ft.GetType() == mysql.TypeFloat && ft.GetFlen() > 24 && ft.GetDecimal() < 0 {
		typ = "double"
	}
	if mysql.HasUnsignedFlag(ft.GetFlag()) && !strings.Contains(typ, "unsigned") {
		typ += " unsigned"
	}
	cs.Type = typ
	if ft.GetType() == mysql.TypeTimestamp || mysql.HasNotNullFlag(ft.GetFlag()) {
		// TIMESTAMP columns are NOT NULL unless declared NULL (explicit_defaults_for_timestamp=OFF
		// is not supported; MySQL 8 and MariaDB 10.10+ default to ON and treat them as nullable).
		if mysql.HasNotNullFlag(ft.GetFlag()) {
			cs.Nullable = false
		}
	}
	for _, o := range c.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull:
			cs.Nullable = false
		case ast.ColumnOptionNull:
			cs.Nullable = true
		case ast.ColumnOptionPrimaryKey:
			isPK = true
			cs.Nullable = false
		case ast.ColumnOptionDefaultValue:
			setDefault(&cs, o.Expr)
		case ast.ColumnOptionAutoIncrement:
			cs.Default, cs.DefaultNull, cs.DefaultExpr = nil, false, true
		}
	}
	return cs, isPK, nil
}

func setDefault(cs *ColumnSpec, e ast.ExprNode) {
	cs.Default, cs.DefaultNull, cs.DefaultExpr = nil, false, false
	neg := false
	if u, ok := e.(*ast.UnaryOperationExpr); ok && u.Op == opcode.Minus {
		neg, e = true, u.V
	}
	v, ok := e.(*driver.ValueExpr)
	if !ok {
		cs.DefaultExpr = true
		return
	}
	val := v.GetValue()
	if val == nil {
		cs.DefaultNull = true
		return
	}
	s := fmt.Sprint(val)
	if b, ok := val.([]byte); ok {
		s = string(b)
	}
	if neg {
		s = "-" + s
	}
	cs.Default = &s
}

// alterNoop lists ALTER TABLE clauses that never change columns or the key.
var alterNoop = map[ast.AlterTableType]bool{
	ast.AlterTableDropIndex: true, ast.AlterTableDropForeignKey: true, ast.AlterTableLock: true,
	ast.AlterTableAlgorithm: true, ast.AlterTableRenameIndex: true, ast.AlterTableForce: true,
	ast.AlterTableAddPartitions: true, ast.AlterTableCoalescePartitions: true, ast.AlterTableDropPartition: true,
	ast.AlterTableTruncatePartition: true, ast.AlterTablePartition: true, ast.AlterTableEnableKeys: true,
	ast.AlterTableDisableKeys: true, ast.AlterTableRemovePartitioning: true, ast.AlterTableWithValidation: true,
	ast.AlterTableWithoutValidation: true, ast.AlterTableRebuildPartition: true, ast.AlterTableReorganizePartition: true,
	ast.AlterTableCheckPartitions: true, ast.AlterTableExchangePartition: true, ast.AlterTableOptimizePartition: true,
	ast.AlterTableRepairPartition: true, ast.AlterTableAlterCheck: true, ast.AlterTableDropCheck: true,
	ast.AlterTableIndexInvisible: true, ast.AlterTableOrderByColumns: true,
}

func (d *DDL) alter(tr *Tracker, cur *schema.Table, r Ref, s *ast.AlterTableStmt, stmt string,
	captured func(db, name string) bool, ch *Change,
) error {
	cols := append([]schema.Column(nil), cur.Columns...)
	pk := make([]string, 0, len(cur.PrimaryKey))
	for _, i := range cur.PrimaryKey {
		pk = append(pk, cur.Columns[i].Name)
	}
	find := func(n string) int {
		for i := range cols {
			if strings.EqualFold(cols[i].Name, n) {
				return i
			}
		}
		return -1
	}
	insert := func(c schema.Column, pos *ast.ColumnPosition) error {
		at := len(cols)
		if pos != nil {
			switch pos.Tp {
			case ast.ColumnPositionFirst:
				at = 0
			case ast.ColumnPositionAfter:
				i := find(pos.RelativeColumn.Name.O)
				if i < 0 {
					return fmt.Errorf("applying %q: column %q not found", stmt, pos.RelativeColumn.Name.O)
				}
				at = i + 1
			}
		}
		cols = append(cols, schema.Column{})
		copy(cols[at+1:], cols[at:])
		cols[at] = c
		return nil
	}
	mapCol := func(def *ast.ColumnDef) (schema.Column, bool, error) {
		cs, isPK, err := specOf(def)
		if err != nil {
			return schema.Column{}, false, fmt.Errorf("applying %q: %w", stmt, err)
		}
		c, err := ToColumn(cs)
		if err != nil {
			return schema.Column{}, false, fmt.Errorf("applying %q: %w", stmt, err)
		}
		return c, isPK, nil
	}
	newName := r
	for _, sp := range s.Specs {
		switch {
		case alterNoop[sp.Tp]:
			continue
		case sp.Tp == ast.AlterTableOption:
			for _, o := range sp.Options {
				if o.Tp == ast.TableOptionCharset && o.UintValue == ast.TableOptionCharsetWithConvertTo {
					ch.Reread = append(ch.Reread, newName)
					return nil
				}
			}
		case sp.Tp == ast.AlterTableAddColumns:
			for _, def := range sp.NewColumns {
				if find(def.Name.Name.O) >= 0 {
					if sp.IfNotExists {
						continue
					}
					return fmt.Errorf("applying %q: column %q already exists", stmt, def.Name.Name.O)
				}
				c, isPK, err := mapCol(def)
				if err != nil {
					return err
				}
				if err := insert(c, sp.Position); err != nil {
					return err
				}
				if isPK {
					pk = []string{c.Name}
				}
			}
		case sp.Tp == ast.AlterTableDropColumn:
			i := find(sp.OldColumnName.Name.O)
			if i < 0 {
				if sp.IfExists {
					continue
				}
				return fmt.Errorf("applying %q: column %q not found", stmt, sp.OldColumnName.Name.O)
			}
			for j, k := range pk {
				if strings.EqualFold(k, cols[i].Name) {
					pk = append(pk[:j], pk[j+1:]...)
					break
				}
			}
			cols = append(cols[:i], cols[i+1:]...)
		case sp.Tp == ast.AlterTableModifyColumn || sp.Tp == ast.AlterTableChangeColumn:
			def := sp.NewColumns[0]
			old := def.Name.Name.O
			if sp.Tp == ast.AlterTableChangeColumn {
				old = sp.OldColumnName.Name.O
			}
			i := find(old)
			if i < 0 {
				if sp.IfExists {
					continue
				}
				return fmt.Errorf("applying %q: column %q not found", stmt, old)
			}
			c, isPK, err := mapCol(def)
			if err != nil {
				return err
			}
			prev := cols[i]
			c.Aliases = append([]string(nil), prev.Aliases...)
			if prev.Name != c.Name {
				c.Aliases = append(c.Aliases, prev.Name)
				for j, k := range pk {
					if strings.EqualFold(k, prev.Name) {
						pk[j] = c.Name
					}
				}
			}
			for _, k := range pk {
				if strings.EqualFold(k, c.Name) {
					c.Optional = false
				}
			}
			if sp.Position != nil && sp.Position.Tp != ast.ColumnPositionNone {
				cols = append(cols[:i], cols[i+1:]...)
				if err := insert(c, sp.Position); err != nil {
					return err
				}
			} else {
				cols[i] = c
			}
			if isPK {
				pk = []string{c.Name}
			}
		case sp.Tp == ast.AlterTableRenameColumn:
			i := find(sp.OldColumnName.Name.O)
			if i < 0 {
				return fmt.Errorf("applying %q: column %q not found", stmt, sp.OldColumnName.Name.O)
			}
			c := cols[i]
			c.Aliases = append(append([]string(nil), c.Aliases...), c.Name)
			for j, k := range pk {
				if strings.EqualFold(k, c.Name) {
					pk[j] = sp.NewColumnName.Name.O
				}
			}
			c.Name = sp.NewColumnName.Name.O
			cols[i] = c
		case sp.Tp == ast.AlterTableAlterColumn:
			def := sp.NewColumns[0]
			i := find(def.Name.Name.O)
			if i < 0 {
				return fmt.Errorf("applying %q: column %q not found", stmt, def.Name.Name.O)
			}
			c := cols[i]
			c.Default, c.HasDefault = nil, false
			for _, o := range def.Options {
				if o.Tp == ast.ColumnOptionDefaultValue {
					cs := ColumnSpec{Name: c.Name, Type: c.SourceType, Nullable: c.Optional}
					setDefault(&cs, o.Expr)
					nc, err := ToColumn(cs)
					if err == nil {
						c.Default, c.HasDefault = nc.Default, nc.HasDefault
					}
				}
			}
			cols[i] = c
		case sp.Tp == ast.AlterTableAddConstraint:
			if sp.Constraint != nil && sp.Constraint.Tp == ast.ConstraintPrimaryKey {
				pk = pk[:0]
				for _, k := range sp.Constraint.Keys {
					if k.Column != nil {
						pk = append(pk, k.Column.Name.O)
					}
				}
				for _, k := range pk {
					if i := find(k); i >= 0 {
						cols[i].Optional = false
						if cols[i].HasDefault && cols[i].Default == nil {
							cols[i].HasDefault = false
						}
					}
				}
			}
		case sp.Tp == ast.AlterTableDropPrimaryKey:
			pk = pk[:0]
		case sp.Tp == ast.AlterTableRenameTable:
			newName = Ref{DB: sp.NewTable.Schema.O, Name: sp.NewTable.Name.O}
			if newName.DB == "" {
				newName.DB = r.DB
			}
		default:
			// A clause this package does not model: read the table instead
			// of guessing.
			ch.Reread = append(ch.Reread, newName)
			return nil
		}
	}
	next := &schema.Table{Database: newName.DB, Name: newName.Name, Columns: cols}
	for _, k := range pk {
		i := -1
		for j := range cols {
			if strings.EqualFold(cols[j].Name, k) {
				i = j
			}
		}
		if i < 0 {
			return fmt.Errorf("applying %q: primary key column %q not found", stmt, k)
		}
		next.PrimaryKey = append(next.PrimaryKey, i)
	}
	if err := next.Validate(); err != nil {
		return fmt.Errorf("applying %q: %w", stmt, err)
	}
	if newName != r {
		tr.Drop(r.DB, r.Name)
		ch.Dropped = append(ch.Dropped, r)
		if !captured(newName.DB, newName.Name) {
			return nil
		}
		ch.Changed = append(ch.Changed, tr.Put(next))
		return nil
	}
	if got := tr.Put(next); got.Version != cur.Version {
		ch.Changed = append(ch.Changed, got)
	}
	return nil
}

// TiDB's parser has no spatial types. Before parsing, a spatial column type
// is replaced by VARBINARY(spatialMarker+i), which specOf maps back, and
// MySQL's SRID attribute is dropped. A statement the rewrite gets wrong
// fails to parse and takes the loud unparsed path.
const spatialMarker = 990001

var spatialTypes = []string{"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
	"multipolygon", "geometrycollection", "geomcollection"}

var (
	spatialRE = regexp.MustCompile(`(?i)\b(geometrycollection|geomcollection|multilinestring|multipolygon|multipoint|linestring|polygon|geometry|point)\b`)
	sridRE    = regexp.MustCompile(`(?i)\bSRID\s+[0-9]+`)
	prevWord  = regexp.MustCompile("([A-Za-z0-9_$`]+)\\s+$")
	nextWord  = regexp.MustCompile(`^\s*([A-Za-z]+|[,);]|$)`)
	// keywords that precede a column name, not a column type
	keywords = map[string]bool{"column": true, "drop": true, "change": true, "modify": true, "after": true, "by": true,
		"key": true, "index": true, "table": true, "add": true, "rename": true, "to": true, "exists": true}
	// what may follow a column type
	follows = map[string]bool{"": true, ",": true, ")": true, ";": true, "not": true, "null": true, "default": true,
		"comment": true, "after": true, "first": true, "invisible": true, "visible": true, "collate": true,
		"primary": true, "unique": true, "key": true, "check": true, "constraint": true, "references": true,
		"generated": true, "as": true, "stored": true, "virtual": true}
)

func rewriteSpatial(stmt string) string {
	if !spatialRE.MatchString(stmt) {
		return stmt
	}
	stmt = sridRE.ReplaceAllString(stmt, "")
	var sb strings.Builder
	last := 0
	for _, m := range spatialRE.FindAllStringSubmatchIndex(stmt, -1) {
		a, b := m[0], m[1]
		if a > 0 && stmt[a-1] == '`' || b < len(stmt) && stmt[b] == '`' {
			continue
		}
		pw := prevWord.FindStringSubmatch(stmt[:a])
		nw := nextWord.FindStringSubmatch(stmt[b:])
		if pw == nil || nw == nil || keywords[strings.ToLower(strings.Trim(pw[1], "`"))] || !follows[strings.ToLower(nw[1])] {
			continue
		}
		for i, t := range spatialTypes {
			if strings.EqualFold(stmt[a:b], t) {
				sb.WriteString(stmt[last:a])
				fmt.Fprintf(&sb, "VARBINARY(%d)", spatialMarker+i)
				last = b
				break
			}
		}
	}
	sb.WriteString(stmt[last:])
	return sb.String()
}
