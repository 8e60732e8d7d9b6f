package verify

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func sampleReport() *Report {
	return &Report{Tables: []*TableResult{
		{MySQLTable: "shop.items", LakeTable: "shop.items", Status: StatusEqual, MySQLRows: 3, LakeRows: 3,
			Ranges: []RangeResult{{Index: 0, Range: "all keys", MySQLRows: 3, LakeRows: 3, Equal: true}}},
		{MySQLTable: "shop.orders", LakeTable: "shop.orders", Status: StatusDifferent, MySQLRows: 10, LakeRows: 10,
			Columns: []string{"id", "total", "note"},
			Notes:   []string{"column secret is not in the lake table (excluded, or not evolved yet); not compared"},
			Ranges: []RangeResult{
				{Index: 0, Range: "id <= 5", MySQLRows: 5, LakeRows: 5, MySQLChecksum: "aa", LakeChecksum: "aa", Equal: true},
				{Index: 1, Range: "id > 5", MySQLRows: 5, LakeRows: 5, MySQLChecksum: "bb", LakeChecksum: "cc"},
			},
			Differences: 3, MissingInLake: 1, ExtraInLake: 1, Changed: 1, Truncated: false,
			Diffs: []Diff{
				{Kind: DiffChanged, Key: "id=6", Columns: []ColumnDiff{{Column: "note", MySQL: Cell{Text: "x"}, Lake: Cell{Null: true}}}},
				{Kind: DiffMissing, Key: "id=7", MySQL: map[string]Cell{"note": {Null: true}, "id": {Text: "7"}, "total": {Text: "1.00"}}},
				{Kind: DiffExtra, Key: "id=8", Lake: map[string]Cell{"id": {Text: "8"}, "total": {Text: "2.00"}, "note": {Text: "y"}}},
			}},
	}}
}

func TestReportText(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"shop.items   shop.items   1       0          3           3          equal\n",
		"DIFFERENT (1 missing, 1 extra, 1 changed)",
		"  note: column secret is not in the lake table",
		"  range 1 (id > 5): mysql 5 rows bb, lake 5 rows cc\n",
		"  changed  id=6\n      note: mysql \"x\" | lake NULL\n",
		"  missing in lake  id=7  {id=\"7\", total=\"1.00\", note=NULL}\n",
		"  extra in lake  id=8  {id=\"8\", total=\"2.00\", note=\"y\"}\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "range 0") {
		t.Errorf("an equal range is listed:\n%s", out)
	}
}

func TestReportJSONAndExitCode(t *testing.T) {
	rep := sampleReport()
	if got := rep.ExitCode(); got != 1 {
		t.Errorf("exit code with a differing table = %d, want 1", got)
	}
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Tables []struct {
			Ranges []struct{ Range string }
			Diffs  []struct {
				Key     string
				Columns []struct {
					MySQL *string `json:"mysql"`
					Lake  *string `json:"lake"`
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	c := back.Tables[1].Diffs[0].Columns[0]
	if c.MySQL == nil || *c.MySQL != "x" || c.Lake != nil {
		t.Errorf("changed cell round trip: %+v", c)
	}
	if back.Tables[1].Ranges[1].Range != "id > 5" || strings.Contains(b.String(), `\u003e`) {
		t.Errorf("ranges are not readable: %s", b.String())
	}

	rep.Tables[0].Status = StatusError
	if got := rep.ExitCode(); got != 2 {
		t.Errorf("exit code with an error = %d, want 2", got)
	}
	rep.Tables = rep.Tables[:0]
	if got := rep.ExitCode(); got != 0 {
		t.Errorf("exit code with no tables = %d, want 0", got)
	}
	missing := &Report{Tables: []*TableResult{{MySQLTable: "a.b", Status: StatusMissing}}}
	if got := missing.ExitCode(); got != 1 {
		t.Errorf("exit code with a table missing in the lake = %d, want 1", got)
	}
}
