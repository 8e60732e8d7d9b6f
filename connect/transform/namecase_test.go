package transform

import (
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"orderItems": "order_items", "OrderItems": "order_items", "HTTPCode": "http_code", "id": "id",
		"user_id": "user_id", "Order Items": "order_items", "a-b": "a_b", "v2Name": "v2_name", "ABC": "abc",
		"__x": "x", "already_snake_": "already_snake_",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameCase(t *testing.T) {
	camel := &schema.Table{Database: "Shop", Name: "OrderItems", Version: 7, PrimaryKey: []int{0},
		Columns: []schema.Column{{Name: "itemId", Kind: schema.KindInt64}, {Name: "unitPrice", Kind: schema.KindFloat64, Optional: true}}}
	clash := &schema.Table{Database: "shop", Name: "t", Version: 1,
		Columns: []schema.Column{{Name: "userId", Kind: schema.KindInt64}, {Name: "user_id", Kind: schema.KindInt64}}}
	tests := []struct {
		name, caseName, names string
		in                    *schema.Table
		wantTable             string // db.table
		wantCols              string
		wantErr               string
	}{
		{"snake default", "snake", "", camel, "Shop.order_items", "item_id,unit_price", ""},
		{"upper all", "upper", "database,table,column", camel, "SHOP.ORDERITEMS", "ITEMID,UNITPRICE", ""},
		{"lower columns only", "lower", "column", camel, "Shop.OrderItems", "itemid,unitprice", ""},
		{"database only", "lower", "database", camel, "shop.OrderItems", "itemId,unitPrice", ""},
		{"clash", "snake", "column", clash, "", "", "two columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := []string{"transforms", "n", "transforms.n.type", "name.case", "transforms.n.case", tt.caseName}
			if tt.names != "" {
				kv = append(kv, "transforms.n.names", tt.names)
			}
			c := mustChain(t, kv...)
			ev := event(tt.in, connect.OpCreate, nil, make([]any, len(tt.in.Columns)))
			for i := range ev.After {
				ev.After[i] = int64(i)
			}
			if tt.in == camel {
				ev.After[1] = 2.5
			}
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
			if got := out.Source.Database + "." + out.Source.Table; got != tt.wantTable {
				t.Errorf("source table %s, want %s", got, tt.wantTable)
			}
			if got := strings.Join(colNames(out.Schema), ","); got != tt.wantCols {
				t.Errorf("columns %s, want %s", got, tt.wantCols)
			}
			if out.Schema.Version != tt.in.Version || tt.in.Name != "OrderItems" || tt.in.Columns[0].Name != "itemId" {
				t.Error("version changed or input table modified")
			}
		})
	}
}

func TestNameCaseWithoutSchema(t *testing.T) {
	c := mustChain(t, "transforms", "n", "transforms.n.type", "name.case", "transforms.n.case", "lower")
	ev := &connect.ChangeEvent{Op: connect.OpTruncate, Source: connect.SourceInfo{Database: "Shop", Table: "Orders"}}
	out, err := c.Apply(t.Context(), []*connect.ChangeEvent{ev, ev})
	if err != nil || len(out) != 2 || out[0].Source.Table != "orders" || out[0].Source.Database != "Shop" || ev.Source.Table != "Orders" {
		t.Fatalf("out %+v err %v", out, err)
	}
}
