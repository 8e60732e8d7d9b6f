package tables

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/binlake/binlake/schema"
)

func all(string, string) bool { return true }

func colNames(t *schema.Table) string {
	var out []string
	for _, c := range t.Columns {
		s := c.Name + ":" + c.SourceType
		if !c.Optional {
			s += "!"
		}
		if len(c.Aliases) > 0 {
			s += "<" + strings.Join(c.Aliases, "<")
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestApplyDDL(t *testing.T) {
	steps := []struct {
		ddl     string
		cols    string
		pk      []int
		version int
	}{
		{"CREATE TABLE t (id INT UNSIGNED NOT NULL AUTO_INCREMENT, a VARCHAR(10), b DECIMAL(65,30), PRIMARY KEY (id))",
			"id:int unsigned! a:varchar(10) b:decimal(65,30)", []int{0}, 1},
		{"ALTER TABLE t ADD COLUMN c DATETIME(6) NOT NULL DEFAULT '2020-01-01 00:00:00' FIRST",
			"c:datetime(6)! id:int unsigned! a:varchar(10) b:decimal(65,30)", []int{1}, 2},
		{"ALTER TABLE t RENAME COLUMN a TO a2", "c:datetime(6)! id:int unsigned! a2:varchar(10)<a b:decimal(65,30)", []int{1}, 3},
		{"ALTER TABLE t CHANGE a2 a3 TEXT NULL AFTER c", "c:datetime(6)! a3:text<a<a2 id:int unsigned! b:decimal(65,30)", []int{2}, 4},
		{"ALTER TABLE t MODIFY b BIGINT UNSIGNED", "c:datetime(6)! a3:text<a<a2 id:int unsigned! b:bigint unsigned", []int{2}, 5},
		{"ALTER TABLE t DROP COLUMN c, ADD INDEX ix (b)", "a3:text<a<a2 id:int unsigned! b:bigint unsigned", []int{1}, 6},
		{"ALTER TABLE t ENGINE=InnoDB", "a3:text<a<a2 id:int unsigned! b:bigint unsigned", []int{1}, 6},
		{"CREATE INDEX ix2 ON t (a3(10))", "a3:text<a<a2 id:int unsigned! b:bigint unsigned", []int{1}, 6},
		{"ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (b, id)", "a3:text<a<a2 id:int unsigned! b:bigint unsigned!", []int{2, 1}, 7},
		{"ALTER TABLE t ADD COLUMN e ENUM('x','y') NOT NULL DEFAULT 'y', ADD COLUMN s SET('p','q')",
			"a3:text<a<a2 id:int unsigned! b:bigint unsigned! e:enum('x','y')! s:set('p','q')", []int{2, 1}, 8},
	}
	tr := NewTracker()
	d := NewDDL()
	for _, s := range steps {
		if _, err := d.Apply(tr, "db", s.ddl, all); err != nil {
			t.Fatalf("%s: %v", s.ddl, err)
		}
		tb := tr.Get("db", "t")
		if tb == nil {
			t.Fatalf("%s: table not tracked", s.ddl)
		}
		if got := colNames(tb); got != s.cols || !reflect.DeepEqual(tb.PrimaryKey, s.pk) || tb.Version != s.version {
			t.Errorf("%s:\n got  %s pk %v v%d\n want %s pk %v v%d", s.ddl, got, tb.PrimaryKey, tb.Version, s.cols, s.pk, s.version)
		}
	}
	tb := tr.Get("db", "t")
	if e := tb.Columns[3]; !e.HasDefault || e.Default != "y" || e.Kind != schema.KindString {
		t.Errorf("enum default = %+v", e)
	}
	if b := tb.Columns[2]; b.Kind != schema.KindDecimal || b.Precision != 20 || b.Scale != 0 {
		t.Errorf("bigint unsigned = %+v", b)
	}

	// Renames move the table; a rename out of capture drops it.
	captured := func(db, name string) bool { return name != "gone" }
	ch, err := d.Apply(tr, "db", "RENAME TABLE t TO db2.t2", captured)
	if err != nil || tr.Get("db2", "t2") == nil || tr.Get("db", "t") != nil || len(ch.Changed) != 1 || len(ch.Dropped) != 1 {
		t.Fatalf("rename: %+v %v", ch, err)
	}
	if _, err := d.Apply(tr, "db", "ALTER TABLE db2.t2 RENAME TO db2.gone", captured); err != nil || tr.Get("db2", "gone") != nil {
		t.Fatalf("rename out of capture: %v", err)
	}
	// Truncate and drop.
	if _, err := d.Apply(tr, "db", "CREATE TABLE x (a INT)", all); err != nil {
		t.Fatal(err)
	}
	ch, _ = d.Apply(tr, "db", "TRUNCATE TABLE x", all)
	if len(ch.Truncated) != 1 {
		t.Errorf("truncate: %+v", ch)
	}
	ch, _ = d.Apply(tr, "db", "DROP TABLE IF EXISTS x, y", all)
	if len(ch.Dropped) != 1 || tr.Get("db", "x") != nil {
		t.Errorf("drop: %+v", ch)
	}
	// A re-created table continues its version line.
	if _, err := d.Apply(tr, "db", "CREATE TABLE x (a INT, b INT)", all); err != nil || tr.Get("db", "x").Version != 2 {
		t.Errorf("re-create: version %d, %v", tr.Get("db", "x").Version, err)
	}
}

func TestUnparseableDDLIsNotSkipped(t *testing.T) {
	tr := NewTracker()
	d := NewDDL()
	if _, err := d.Apply(tr, "db", "CREATE TABLE t (a INT)", all); err != nil {
		t.Fatal(err)
	}
	// TiDB's parser has no MariaDB INET6 type.
	_, err := d.Apply(tr, "db", "ALTER TABLE t ADD COLUMN g INET6", all)
	var ue *UnparsedError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnparsed) || len(ue.Tables) != 1 || ue.Tables[0].Name != "t" {
		t.Fatalf("got %v", err)
	}
	// Statements that cannot touch a captured table are ignored.
	if _, err := d.Apply(tr, "db", "ALTER TABLE other ADD COLUMN g INET6", all); err != nil {
		t.Errorf("unrelated unparseable DDL: %v", err)
	}
	// Unmodelled ALTER clauses ask for a re-read instead of guessing.
	ch, err := d.Apply(tr, "db", "ALTER TABLE t CONVERT TO CHARACTER SET latin1", all)
	if err != nil || len(ch.Reread) != 1 {
		t.Errorf("convert charset: %+v %v", ch, err)
	}
}

func TestTrackerJSONRoundTrip(t *testing.T) {
	tr := NewTracker()
	d := NewDDL()
	ddl := `CREATE TABLE t (id BIGINT PRIMARY KEY, d DECIMAL(10,2) NOT NULL DEFAULT -1.25, i INT DEFAULT 7,
		s VARCHAR(5) DEFAULT 'x''y', f FLOAT DEFAULT 1.5, dt DATETIME DEFAULT '2020-01-02 03:04:05', b BLOB, ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP)`
	if _, err := d.Apply(tr, "db", ddl, all); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	back := NewTracker()
	if err := json.Unmarshal(b, back); err != nil {
		t.Fatal(err)
	}
	a, c := tr.Get("db", "t"), back.Get("db", "t")
	if !a.SameColumns(c) || c.Version != a.Version {
		t.Fatalf("round trip changed the table:\n%+v\n%+v", a, c)
	}
	for i := range a.Columns {
		if reflect.TypeOf(a.Columns[i].Default) != reflect.TypeOf(c.Columns[i].Default) {
			t.Errorf("column %s default type %T became %T", a.Columns[i].Name, a.Columns[i].Default, c.Columns[i].Default)
		}
	}
	want := map[string]any{"i": int32(7), "s": "x'y", "f": float32(1.5)}
	for n, w := range want {
		if got := c.Columns[c.ColumnIndex(n)].Default; got != w {
			t.Errorf("default of %s = %#v, want %#v", n, got, w)
		}
	}
	if got := c.Columns[c.ColumnIndex("d")].Default.(schema.Decimal).String(); got != "-1.25" {
		t.Errorf("decimal default = %s", got)
	}
	if ts := c.Columns[c.ColumnIndex("ts")]; ts.HasDefault {
		t.Errorf("expression default carried as a value: %+v", ts)
	}
	// Putting an identical table keeps the version.
	if got := back.Put(c); got.Version != a.Version {
		t.Errorf("identical put bumped the version to %d", got.Version)
	}
}

func TestKindOf(t *testing.T) {
	cases := map[string]schema.Kind{
		"tinyint": schema.KindInt32, "int unsigned": schema.KindInt64, "int": schema.KindInt32,
		"bigint unsigned": schema.KindDecimal, "bigint": schema.KindInt64, "decimal(38,10)": schema.KindDecimal,
		"decimal(39,0)": schema.KindString, "double": schema.KindFloat64, "float": schema.KindFloat32,
		"bit(1)": schema.KindBool, "bit(2)": schema.KindBytes, "json": schema.KindString, "longtext": schema.KindString,
		"datetime(3)": schema.KindTimestamp, "timestamp": schema.KindTimestampTZ, "time": schema.KindTime,
		"date": schema.KindDate, "year": schema.KindInt32, "multipolygon": schema.KindBytes, "varbinary(3)": schema.KindBytes,
	}
	for typ, want := range cases {
		got, _, _, err := KindOf(NormalizeType(typ))
		if err != nil || got != want {
			t.Errorf("KindOf(%q) = %s, %v; want %s", typ, got, err, want)
		}
	}
	if _, _, _, err := KindOf("inet6"); err == nil {
		t.Error("inet6 mapped without error")
	}
	if got := NormalizeType("INT(11) UNSIGNED"); got != "int unsigned" {
		t.Errorf("NormalizeType = %q", got)
	}
}

func FuzzApplyDDL(f *testing.F) {
	f.Add("ALTER TABLE t ADD COLUMN x INT")
	f.Add("ALTER TABLE t CHANGE a b TEXT FIRST")
	f.Add("CREATE TABLE t (a INT PRIMARY KEY)")
	f.Fuzz(func(t *testing.T, stmt string) {
		tr := NewTracker()
		d := NewDDL()
		_, _ = d.Apply(tr, "db", "CREATE TABLE t (a INT PRIMARY KEY, b INT)", all)
		_, _ = d.Apply(tr, "db", stmt, all) // must not panic
	})
}

func TestSpatialColumns(t *testing.T) {
	tr := NewTracker()
	d := NewDDL()
	steps := []struct{ ddl, cols string }{
		{"CREATE TABLE t (id INT PRIMARY KEY, point INT, g GEOMETRY NOT NULL SRID 4326, `p` POINT)",
			"id:int! point:int g:geometry! p:point"},
		{"ALTER TABLE t ADD COLUMN ls LINESTRING NULL AFTER point, ADD COLUMN mp MULTIPOLYGON",
			"id:int! point:int ls:linestring g:geometry! p:point mp:multipolygon"},
		{"ALTER TABLE t DROP COLUMN point", "id:int! ls:linestring g:geometry! p:point mp:multipolygon"},
		{"ALTER TABLE t CHANGE COLUMN p point GEOMETRYCOLLECTION NULL",
			"id:int! ls:linestring g:geometry! point:geometrycollection<p mp:multipolygon"},
	}
	for _, s := range steps {
		if _, err := d.Apply(tr, "db", s.ddl, all); err != nil {
			t.Fatalf("%s: %v", s.ddl, err)
		}
		if got := colNames(tr.Get("db", "t")); got != s.cols {
			t.Errorf("%s:\n got  %s\n want %s", s.ddl, got, s.cols)
		}
	}
	if k := tr.Get("db", "t").Columns[2].Kind; k != schema.KindBytes {
		t.Errorf("geometry kind = %s", k)
	}
}

// TestUnparseableOtherObjectsAreIgnored: the CREATE/ALTER/DROP statements of triggers, views, stored programs and
// accounts cannot change a table's columns. TiDB's parser rejects several of them; they must not fail a connector
// because a captured table's name occurs in their body (a trigger on a same-named table of another database did).
func TestUnparseableOtherObjectsAreIgnored(t *testing.T) {
	tr := NewTracker()
	d := NewDDL()
	for _, db := range []string{"shop", "audit"} {
		if _, err := d.Apply(tr, db, "CREATE TABLE items (id INT PRIMARY KEY, qty INT)", all); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct{ stmt, kind string }{
		{"CREATE DEFINER=`root`@`%` TRIGGER items_ai AFTER INSERT ON items FOR EACH ROW INSERT INTO `audit`.items (id, qty) VALUES (NEW.id, NEW.qty)", "trigger"},
		{"CREATE DEFINER='app'@'localhost' TRIGGER t BEFORE UPDATE ON shop.items FOR EACH ROW SET NEW.qty = NEW.qty + 1", "trigger"},
		{"CREATE DEFINER=CURRENT_USER() TRIGGER t BEFORE DELETE ON items FOR EACH ROW BEGIN DELETE FROM items WHERE id = OLD.id; END", "trigger"},
		{"/* note */ CREATE OR REPLACE DEFINER=`root`@`localhost` TRIGGER t AFTER INSERT ON items FOR EACH ROW SET @x = 1", "trigger"},
		{"DROP TRIGGER IF EXISTS shop.items_ai", "trigger"},
		{"CREATE DEFINER=`root`@`%` PROCEDURE fill() BEGIN INSERT INTO items VALUES (1, 2); END", "procedure"},
		{"CREATE DEFINER=`root`@`%` FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN (SELECT COUNT(*) FROM items) + x", "function"},
		{"CREATE DEFINER=`root`@`%` EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM items WHERE qty = 0", "event"},
		{"CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW v AS SELECT * FROM items WHERE qty > 0 WITH CASCADED CHECK OPTION LOCK", "view"},
	}
	for _, c := range cases {
		ch, err := d.Apply(tr, "shop", c.stmt, all)
		if err != nil {
			t.Errorf("%s: %v", c.stmt, err)
			continue
		}
		if len(ch.Changed)+len(ch.Dropped)+len(ch.Truncated)+len(ch.Reread) > 0 {
			t.Errorf("%s: changed tables: %+v", c.stmt, ch)
		}
		if _, _, perr := d.p.Parse(rewriteSpatial(c.stmt), "", ""); perr != nil && ch.Ignored != c.kind {
			t.Errorf("%s: ignored as %q, want %q", c.stmt, ch.Ignored, c.kind)
		}
	}
	if got := tr.Get("shop", "items"); got == nil || got.Version != 1 {
		t.Errorf("shop.items after the statements: %+v", got)
	}
}

// TestUnparseableDDLNamesOnlyItsOwnDatabase: an unparseable statement fails only the tables it can name: qualified
// with their database, or unqualified and run in it.
func TestUnparseableDDLNamesOnlyItsOwnDatabase(t *testing.T) {
	tr := NewTracker()
	d := NewDDL()
	for _, db := range []string{"shop", "audit"} {
		if _, err := d.Apply(tr, db, "CREATE TABLE items (id INT PRIMARY KEY)", all); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		defaultDB, stmt string
		want            []string
	}{
		{"shop", "ALTER TABLE items ADD COLUMN g INET6", []string{"shop.items"}},
		{"other", "ALTER TABLE items ADD COLUMN g INET6", nil},
		{"other", "ALTER TABLE audit.items ADD COLUMN g INET6", []string{"audit.items"}},
		{"other", "ALTER TABLE `audit` . `items` ADD COLUMN g INET6", []string{"audit.items"}},
		{"shop", "ALTER TABLE `Audit`.items ADD COLUMN g INET6", []string{"audit.items"}},
		{"", "ALTER TABLE items ADD COLUMN g INET6", []string{"audit.items", "shop.items"}},
		{"shop", "ALTER TABLE items_log ADD COLUMN g INET6", nil},
		{"shop", "ALTER TABLE other.items ADD COLUMN g INET6", nil},
	}
	for _, c := range cases {
		_, err := d.Apply(tr, c.defaultDB, c.stmt, all)
		var got []string
		var ue *UnparsedError
		if errors.As(err, &ue) {
			for _, r := range ue.Tables {
				got = append(got, r.String())
			}
		} else if err != nil {
			t.Errorf("%s in %q: %v", c.stmt, c.defaultDB, err)
			continue
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s in %q: names %v, want %v", c.stmt, c.defaultDB, got, c.want)
		}
	}
}
