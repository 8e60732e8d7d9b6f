package transform

import (
	"errors"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
)

func TestColumnFilters(t *testing.T) {
	tests := []struct {
		name     string
		kv       []string
		wantCols string // "" when the event must pass unchanged
		wantPK   []int
		wantErr  string
	}{
		{"exclude one", []string{"columns.exclude", `shop\.customers\.ssn`}, "id,email,name,amount,age,created,active,photo,score", []int{0}, ""},
		{"exclude case-insensitive", []string{"columns.exclude", `SHOP\.CUSTOMERS\.(SSN|PHOTO)`}, "id,email,name,amount,age,created,active,score", []int{0}, ""},
		{"exclude several patterns", []string{"columns.exclude", `.*\.ssn, shop\..*\.photo`}, "id,email,name,amount,age,created,active,score", []int{0}, ""},
		{"exclude anchored", []string{"columns.exclude", `ssn`}, "", nil, ""},
		{"exclude other table", []string{"columns.exclude", `shop\.orders\..*`}, "", nil, ""},
		{"exclude key column", []string{"columns.exclude", `.*\.id`}, "", nil, `column "id" is part of the primary key`},
		{"exclude everything", []string{"columns.exclude", `.*`}, "", nil, "every column"},
		{"include", []string{"columns.include", `shop\.customers\.(id|email|age)`}, "id,email,age", []int{0}, ""},
		{"include all", []string{"columns.include", `shop\.customers\..*`}, "", nil, ""},
		{"include without key", []string{"columns.include", `shop\.customers\.email`}, "", nil, "primary key"},
		{"include nothing", []string{"columns.include", `shop\.orders\.id`}, "", nil, "every column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustChain(t, "transforms", "x", "transforms.x.type", tt.kv[0], "transforms.x.columns", tt.kv[1])
			in := customers(3)
			ev := event(in, connect.OpUpdate, customerRow(1), customerRow(2))
			out, err := one(t, c, ev)
			if tt.wantErr != "" {
				var re *RecordError
				if !errors.As(err, &re) || re.Transform != "x" || re.Event != ev || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a RecordError of x containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantCols == "" {
				if out != ev {
					t.Fatalf("an untouched event was copied")
				}
				return
			}
			if got := strings.Join(colNames(out.Schema), ","); got != tt.wantCols {
				t.Fatalf("columns = %s, want %s", got, tt.wantCols)
			}
			if out.Schema.Version != in.Version {
				t.Errorf("derived version %d, want the input's %d", out.Schema.Version, in.Version)
			}
			if len(out.Schema.PrimaryKey) != len(tt.wantPK) || out.Schema.PrimaryKey[0] != tt.wantPK[0] {
				t.Errorf("primary key %v, want %v", out.Schema.PrimaryKey, tt.wantPK)
			}
			// Values follow their columns.
			for j, name := range colNames(out.Schema) {
				i := in.ColumnIndex(name)
				if !equalValue(out.After[j], ev.After[i]) || !equalValue(out.Before[j], ev.Before[i]) {
					t.Errorf("column %s: got %v/%v, want %v/%v", name, out.Before[j], out.After[j], ev.Before[i], ev.After[i])
				}
			}
		})
	}
}

func equalValue(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	return a == b
}

func TestDerivedSchemaVersionRule(t *testing.T) {
	c := mustChain(t, "transforms", "x", "transforms.x.type", "columns.exclude", "transforms.x.columns", `.*\.ssn`)
	v3 := customers(3)
	a, _ := one(t, c, insert(v3, 1))
	b, _ := one(t, c, insert(v3, 2))
	if a.Schema != b.Schema {
		t.Fatal("two events of one table version got different derived schemas")
	}
	// Another pointer with the same version and columns (e.g. a source that
	// rebuilt its schema cache) maps to the same derived table.
	same, _ := one(t, c, insert(customers(3), 3))
	if same.Schema != a.Schema {
		t.Fatal("an equal table version got a new derived schema")
	}
	v4 := customers(4)
	v4.Columns = append(v4.Columns, v4.Columns[2])
	v4.Columns[len(v4.Columns)-1].Name = "nickname"
	ev := insert(v4, 4)
	ev.After = append(ev.After, "Annie")
	d, err := one(t, c, ev)
	if err != nil {
		t.Fatal(err)
	}
	if d.Schema == a.Schema || d.Schema.Version != 4 || d.Schema.Columns[len(d.Schema.Columns)-1].Name != "nickname" {
		t.Fatalf("new input version: derived %+v", d.Schema)
	}
	if a.Schema.Version > d.Schema.Version {
		t.Fatal("derived versions are not monotonic")
	}
}

func TestBadRowLength(t *testing.T) {
	c := mustChain(t, "transforms", "x", "transforms.x.type", "columns.exclude", "transforms.x.columns", `.*\.ssn`)
	ev := insert(customers(3), 1)
	ev.After = ev.After[:5]
	_, err := one(t, c, ev)
	var re *RecordError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "5 values") {
		t.Fatalf("err = %v", err)
	}
}

func TestRename(t *testing.T) {
	orders := customers(1)
	orders.Name = "orders"
	tests := []struct {
		name    string
		renames string
		table   bool // use orders instead of customers
		want    string
		wantErr string
	}{
		{"plain", "email:mail, SSN:tax_id", false, "id,mail,name,tax_id,amount,age,created,active,photo,score", ""},
		{"table specific wins", "name:label,shop.customers.name:full_name", false, "id,email,full_name,ssn,amount,age,created,active,photo,score", ""},
		{"table specific elsewhere", "name:label,shop.customers.name:full_name", true, "id,email,label,ssn,amount,age,created,active,photo,score", ""},
		{"absent column", "nope:other", false, "", ""},
		{"collision", "name:Email", false, "", "two columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustChain(t, "transforms", "r", "transforms.r.type", "columns.rename", "transforms.r.renames", tt.renames)
			in := customers(2)
			if tt.table {
				in = orders
			}
			ev := insert(in, 1)
			out, err := one(t, c, ev)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if out != ev {
					t.Fatal("untouched event copied")
				}
				return
			}
			if got := strings.Join(colNames(out.Schema), ","); got != tt.want {
				t.Fatalf("columns %s, want %s", got, tt.want)
			}
			if out.Schema.Version != in.Version || &out.After[0] != &ev.After[0] {
				t.Fatal("rename must keep the version and the row")
			}
		})
	}
}
