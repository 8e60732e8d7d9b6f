package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Table statuses.
const (
	StatusEqual     = "equal"
	StatusDifferent = "different"
	// StatusMissing: the MySQL table has no lake table.
	StatusMissing = "missing-in-lake"
	StatusError   = "error"
)

// Kinds of differing keys.
const (
	DiffMissing   = "missing-in-lake"
	DiffExtra     = "extra-in-lake"
	DiffChanged   = "changed"
	DiffDuplicate = "duplicate-in-lake"
)

// TableResult is the outcome of comparing one table.
type TableResult struct {
	MySQLTable string `json:"mysql_table"`
	LakeTable  string `json:"lake_table"`
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
	// LakeSnapshot is the Iceberg snapshot read (0: the table has none).
	LakeSnapshot int64    `json:"lake_snapshot,omitempty"`
	Columns      []string `json:"columns,omitempty"`
	// Notes say what was not compared and why (columns present on one
	// side only).
	Notes         []string      `json:"notes,omitempty"`
	MySQLRows     int64         `json:"mysql_rows"`
	LakeRows      int64         `json:"lake_rows"`
	Ranges        []RangeResult `json:"ranges,omitempty"`
	Differences   int           `json:"differences"`
	MissingInLake int           `json:"missing_in_lake"`
	ExtraInLake   int           `json:"extra_in_lake"`
	Changed       int           `json:"changed"`
	// Diffs lists the differing keys in key order, at most Options.MaxKeys;
	// Truncated says more were found.
	Diffs     []Diff `json:"diffs,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
}

// Different reports whether the table differs (or has no lake table).
func (r *TableResult) Different() bool {
	return r.Status == StatusDifferent || r.Status == StatusMissing
}

// RangeResult is one primary-key range of a table on both sides.
type RangeResult struct {
	Index         int    `json:"index"`
	Range         string `json:"range"`
	MySQLRows     int64  `json:"mysql_rows"`
	LakeRows      int64  `json:"lake_rows"`
	MySQLChecksum string `json:"mysql_checksum"`
	LakeChecksum  string `json:"lake_checksum"`
	Equal         bool   `json:"equal"`
}

// Diff is one differing key.
type Diff struct {
	Kind string `json:"kind"`
	Key  string `json:"key"`
	// Columns lists the differing columns of a changed row.
	Columns []ColumnDiff `json:"columns,omitempty"`
	// MySQL is the row of a key missing in the lake; Lake the row of an
	// extra (or duplicated) key.
	MySQL map[string]Cell `json:"mysql,omitempty"`
	Lake  map[string]Cell `json:"lake,omitempty"`

	key []any
}

// ColumnDiff is one column of a changed row on both sides.
type ColumnDiff struct {
	Column string `json:"column"`
	MySQL  Cell   `json:"mysql"`
	Lake   Cell   `json:"lake"`
}

// Report is the outcome of a run.
type Report struct {
	Tables []*TableResult `json:"tables"`
	// Equal is true when every table was compared and is equal.
	Equal bool `json:"equal"`
}

// ExitCode returns the command's exit code: 2 when a table could not be
// compared, 1 when one differs, 0 when all are equal.
func (r *Report) ExitCode() int {
	code := 0
	for _, t := range r.Tables {
		switch {
		case t.Status == StatusError:
			return 2
		case t.Different():
			code = 1
		}
	}
	return code
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing the JSON report: %w", err)
	}
	return nil
}

// WriteText writes the report for people: a summary line per table, then
// for each differing table its differing ranges and keys.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "MYSQL TABLE\tLAKE TABLE\tRANGES\tDIFFERING\tMYSQL ROWS\tLAKE ROWS\tRESULT")
	for _, t := range r.Tables {
		bad := 0
		for _, rr := range t.Ranges {
			if !rr.Equal {
				bad++
			}
		}
		result := t.Status
		switch t.Status {
		case StatusDifferent:
			result = fmt.Sprintf("DIFFERENT (%d missing, %d extra, %d changed)", t.MissingInLake, t.ExtraInLake, t.Changed)
		case StatusError:
			result = "ERROR"
		case StatusMissing:
			result = "MISSING IN LAKE"
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", t.MySQLTable, orDash(t.LakeTable), len(t.Ranges), bad, t.MySQLRows, t.LakeRows, result)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	var b strings.Builder
	for _, t := range r.Tables {
		if t.Status == StatusEqual && len(t.Notes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s -> %s:\n", t.MySQLTable, orDash(t.LakeTable))
		if t.Error != "" {
			fmt.Fprintf(&b, "  error: %s\n", t.Error)
		}
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
		for _, rr := range t.Ranges {
			if !rr.Equal {
				fmt.Fprintf(&b, "  range %d (%s): mysql %d rows %s, lake %d rows %s\n",
					rr.Index, rr.Range, rr.MySQLRows, rr.MySQLChecksum, rr.LakeRows, rr.LakeChecksum)
			}
		}
		for _, d := range t.Diffs {
			writeDiff(&b, d, t.Columns)
		}
		if t.Differences > len(t.Diffs) {
			fmt.Fprintf(&b, "  ... %d more differing keys (raise --max-keys to list them)\n", t.Differences-len(t.Diffs))
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

func writeDiff(b *strings.Builder, d Diff, columns []string) {
	switch d.Kind {
	case DiffChanged:
		fmt.Fprintf(b, "  changed  %s\n", d.Key)
		for _, c := range d.Columns {
			fmt.Fprintf(b, "      %s: mysql %s | lake %s\n", c.Column, quoteCell(c.MySQL), quoteCell(c.Lake))
		}
	case DiffMissing:
		fmt.Fprintf(b, "  missing in lake  %s  %s\n", d.Key, rowText(d.MySQL, columns))
	case DiffExtra:
		fmt.Fprintf(b, "  extra in lake  %s  %s\n", d.Key, rowText(d.Lake, columns))
	case DiffDuplicate:
		fmt.Fprintf(b, "  duplicate in lake  %s  %s\n", d.Key, rowText(d.Lake, columns))
	}
}

func quoteCell(c Cell) string {
	if c.Null {
		return "NULL"
	}
	return fmt.Sprintf("%q", c.Text)
}

// rowText renders a row in table column order (then any other columns).
func rowText(m map[string]Cell, columns []string) string {
	names := make([]string, 0, len(m))
	seen := make(map[string]bool, len(m))
	for _, n := range columns {
		if _, ok := m[n]; ok {
			names = append(names, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range m {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + quoteCell(m[n])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
