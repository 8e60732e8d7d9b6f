package transform

import (
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

func TestFieldAdd(t *testing.T) {
	tests := []struct {
		name     string
		kv       []string
		mutate   func(ev *connect.ChangeEvent)
		want     any
		wantKind schema.Kind
		wantOpt  bool
		wantErr  string
	}{
		{"static string", []string{"value", "eu-west"}, nil, "eu-west", schema.KindString, false, ""},
		{"static int32", []string{"value", " 42 ", "kind", "int32"}, nil, int32(42), schema.KindInt32, false, ""},
		{"static bool", []string{"value", "true", "kind", "bool"}, nil, true, schema.KindBool, false, ""},
		{"static date", []string{"value", "1970-01-03", "kind", "date"}, nil, int32(2), schema.KindDate, false, ""},
		{"static timestamptz", []string{"value", "1970-01-01T00:00:01.5Z", "kind", "timestamptz"}, nil, int64(1_500_000), schema.KindTimestampTZ, false, ""},
		{"static timestamp", []string{"value", "1970-01-01 00:00:02", "kind", "timestamp"}, nil, int64(2_000_000), schema.KindTimestamp, false, ""},
		{"op", []string{"value.from", "op"}, nil, "u", schema.KindString, false, ""},
		{"db", []string{"value.from", "db"}, nil, "shop", schema.KindString, false, ""},
		{"table", []string{"value.from", "table"}, nil, "customers", schema.KindString, false, ""},
		{"sequence", []string{"value.from", "sequence"}, func(ev *connect.ChangeEvent) { ev.Source.Sequence = 77 }, int64(77), schema.KindInt64, false, ""},
		{"commit time", []string{"value.from", "commit.timestamp"}, nil, int64(1_700_000_000_123_000), schema.KindTimestampTZ, true, ""},
		{"commit time absent", []string{"value.from", "commit.timestamp"}, func(ev *connect.ChangeEvent) { ev.Source.CommitTimeMs = 0 }, nil, schema.KindTimestampTZ, true, ""},
		{"snapshot", []string{"value.from", "snapshot"}, nil, false, schema.KindBool, false, ""},
		{"gtid", []string{"value.from", "gtid"}, nil, "uuid:12", schema.KindString, true, ""},
		{"file absent", []string{"value.from", "binlog.file"}, func(ev *connect.ChangeEvent) { ev.Source.File = "" }, nil, schema.KindString, true, ""},
		{"pos", []string{"value.from", "binlog.pos"}, nil, int64(4242), schema.KindInt64, true, ""},
		{"server id", []string{"value.from", "server.id"}, nil, int64(7), schema.KindInt64, false, ""},
		{"existing column", []string{"value", "x"}, nil, nil, 0, false, "already has a column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			field := "_added"
			if tt.wantErr != "" {
				field = "EMAIL"
			}
			kv := []string{"transforms", "a", "transforms.a.type", "field.add", "transforms.a.field", field}
			for i := 0; i < len(tt.kv); i += 2 {
				kv = append(kv, "transforms.a."+tt.kv[i], tt.kv[i+1])
			}
			c := mustChain(t, kv...)
			in := customers(4)
			ev := event(in, connect.OpUpdate, customerRow(1), customerRow(1))
			if tt.mutate != nil {
				tt.mutate(ev)
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
			n := len(in.Columns)
			col := out.Schema.Columns[len(out.Schema.Columns)-1]
			if len(out.Schema.Columns) != n+1 || col.Name != field || col.Kind != tt.wantKind || col.Optional != tt.wantOpt {
				t.Fatalf("added column %+v (%d columns)", col, len(out.Schema.Columns))
			}
			if out.After[n] != tt.want || out.Before[n] != tt.want {
				t.Fatalf("added values %#v/%#v, want %#v", out.Before[n], out.After[n], tt.want)
			}
			if out.Schema.Version != in.Version || len(in.Columns) != 10 || len(ev.After) != 10 {
				t.Fatal("version changed or input modified")
			}
		})
	}
}

func TestFieldAddStaticDecimal(t *testing.T) {
	v, col, err := parseStatic("-12.340", schema.KindDecimal)
	if err != nil || col.Precision != 5 || col.Scale != 3 || !v.(schema.Decimal).Equal(dec("-12.34")) || !col.HasDefault {
		t.Fatalf("v %v col %+v err %v", v, col, err)
	}
	for _, bad := range []struct {
		s string
		k schema.Kind
	}{{"x", schema.KindInt32}, {"3000000000", schema.KindInt32}, {"yes", schema.KindBool}, {"2024-13-01", schema.KindDate},
		{"1.5.5", schema.KindDecimal}, {strings.Repeat("9", 39), schema.KindDecimal}, {"noon", schema.KindTimestamp}, {"x", schema.KindBytes}} {
		if _, _, err := parseStatic(bad.s, bad.k); err == nil {
			t.Errorf("parseStatic(%q, %s) accepted", bad.s, bad.k)
		}
	}
}
