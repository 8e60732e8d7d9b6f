package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"gocloud.dev/blob"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
	"github.com/binlake/binlake/sink/lake/hudi"
)

// openHudi opens the warehouse of Hudi tables the way the sink does, from
// the same keys.
func openHudi(ctx context.Context, c LakeConfig) (*hudi.Format, error) {
	if c.Warehouse == "" {
		return nil, errors.New("hudi tables need the sink's warehouse (--iceberg.warehouse)")
	}
	cfg := connect.Config{
		lake.KeyFormat:            lake.FormatHudi,
		lake.KeyWarehouse:         c.Warehouse,
		lake.KeyNamespace:         c.Namespace,
		lake.KeyTableNameFormat:   c.TableNameFormat,
		lake.KeyS3Endpoint:        c.S3Endpoint,
		lake.KeyS3Region:          c.S3Region,
		lake.KeyS3AccessKeyID:     c.S3AccessKeyID,
		lake.KeyS3SecretAccessKey: c.S3SecretAccessKey,
		lake.KeyS3PathStyle:       fmt.Sprint(c.S3PathStyle),
	}
	f, err := hudi.OpenFormat(ctx, &connect.TaskContext{Connector: "binlake-verify", Config: cfg})
	if err != nil {
		return nil, fmt.Errorf("opening the hudi warehouse %s: %w", c.Warehouse, err)
	}
	return f, nil
}

// completedCommit is a completed commit file of the Hudi timeline.
var completedCommit = regexp.MustCompile(`^\d{14,17}\.commit$`)

// hudiSchema returns the binlake schema the latest completed commit of the
// table at base was written with; nil when the table has no commit (or no
// table exists there).
func hudiSchema(ctx context.Context, b *blob.Bucket, base string) (*schema.Table, error) {
	it := b.List(&blob.ListOptions{Prefix: base + "/.hoodie/", Delimiter: "/"})
	latest := ""
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("listing the timeline of %s: %w", base, err)
		}
		name := strings.TrimPrefix(obj.Key, base+"/.hoodie/")
		if completedCommit.MatchString(name) && name > latest {
			latest = name
		}
	}
	if latest == "" {
		return nil, nil
	}
	data, err := b.ReadAll(ctx, base+"/.hoodie/"+latest)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s of %s: %w", latest, base, err)
	}
	var cm hudi.CommitMetadata
	if err := json.Unmarshal(data, &cm); err != nil {
		return nil, fmt.Errorf("parsing commit %s of %s: %w", latest, base, err)
	}
	js, ok := cm.ExtraMetadata[hudi.MetaSchema]
	if !ok {
		return nil, fmt.Errorf("commit %s of %s carries no %s: not written by binlake", latest, base, hudi.MetaSchema)
	}
	var t schema.Table
	if err := json.Unmarshal([]byte(js), &t); err != nil {
		return nil, fmt.Errorf("parsing the schema of commit %s of %s: %w", latest, base, err)
	}
	return &t, nil
}

// HudiTable reads the compared columns of a Hudi copy-on-write table: the
// latest base file of every file group as of the latest completed commit.
// Each Scan reads the latest commit anew.
type HudiTable struct {
	bucket *blob.Bucket
	base   string
	cols   []Column
	fields []string
	keys   []int
}

var _ Side = (*HudiTable)(nil)

// Scan reads every row of the latest snapshot. A base file written before
// a column was added has no such column: its cells are NULL, as Hudi's
// readers show them.
func (t *HudiTable) Scan(ctx context.Context, fn func(Row) error) error {
	return hudi.ReadSnapshot(ctx, t.bucket, t.base, func(rec arrow.RecordBatch) error {
		cols := make([]arrow.Array, len(t.fields))
		for i, f := range t.fields {
			if idx := rec.Schema().FieldIndices(f); len(idx) > 0 {
				cols[i] = rec.Column(idx[0])
			}
		}
		for ri := 0; ri < int(rec.NumRows()); ri++ {
			r := Row{Key: make([]any, len(t.keys)), Cells: make([]Cell, len(cols))}
			vals := make([]any, len(cols))
			for i, a := range cols {
				if a == nil {
					r.Cells[i] = Cell{Null: true}
					continue
				}
				v, err := arrowValue(a, ri, t.cols[i])
				if err != nil {
					return fmt.Errorf("reading column %q: %w", t.fields[i], err)
				}
				vals[i] = v
				r.Cells[i] = Canon(t.cols[i], v)
			}
			for j, ci := range t.keys {
				r.Key[j] = vals[ci]
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// planHudi matches the MySQL columns with the columns of the Hudi table's
// latest schema by case-insensitive name.
func planHudi(src *schema.Table, lakeSchema *schema.Table, lakeName string) (*Plan, []int, []string, []string, error) {
	if !src.HasPrimaryKey() {
		return nil, nil, nil, nil, fmt.Errorf("%s has no primary key; verify compares tables by key", src.QualifiedName())
	}
	byName := map[string]string{}
	for _, c := range lakeSchema.Columns {
		byName[strings.ToLower(c.Name)] = c.Name
	}
	plan := &Plan{MySQLTable: src.QualifiedName(), LakeTable: lakeName}
	var srcCols []int
	var fields, notes []string
	used := map[string]bool{}
	pos := map[int]int{}
	for ci, c := range src.Columns {
		name, ok := byName[strings.ToLower(c.Name)]
		if !ok {
			notes = append(notes, fmt.Sprintf("column %s is not in the lake table (excluded, or not evolved yet); not compared", c.Name))
			continue
		}
		used[name] = true
		pos[ci] = len(plan.Columns)
		plan.Columns = append(plan.Columns, ColumnOf(c))
		srcCols = append(srcCols, ci)
		fields = append(fields, name)
	}
	for _, k := range src.PrimaryKey {
		i, ok := pos[k]
		if !ok {
			return nil, nil, nil, nil, fmt.Errorf("lake table %s has no column for primary-key column %s", lakeName, src.Columns[k].Name)
		}
		plan.KeyColumns = append(plan.KeyColumns, i)
	}
	for _, c := range lakeSchema.Columns {
		if !used[c.Name] {
			notes = append(notes, fmt.Sprintf("lake column %s has no MySQL column; not compared", c.Name))
		}
	}
	return plan, srcCols, fields, notes, nil
}
