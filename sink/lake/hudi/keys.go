package hudi

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/schema"
)

// Placeholders Hudi's key generators use (KeyGenUtils).
const (
	nullRecordKey       = "__null__"
	emptyRecordKey      = "__empty__"
	defaultPartitionVal = "__HIVE_DEFAULT_PARTITION__"
)

// keyGen builds record keys and partition paths from rows of one table
// version, as Hudi's SimpleKeyGenerator (one key column, one partition
// column), ComplexKeyGenerator (several of either) and
// NonpartitionedKeyGenerator do.
type keyGen struct {
	keyCols    []int
	keyNames   []string
	keyColumns []schema.Column
	partCols   []int // empty: not partitioned
	partNames  []string
	partColumn []schema.Column
	hiveStyle  bool
}

// newKeyGen returns the key generator of t. partitionFields is the value of
// hoodie.table.partition.fields: "" (not partitioned) or comma-separated
// column names, each an identity partition level in that order.
func newKeyGen(t *schema.Table, partitionFields string, hiveStyle bool) (*keyGen, error) {
	if !t.HasPrimaryKey() {
		return nil, fmt.Errorf("table %s has no primary key; a Hudi upsert table needs one for its record key (use append mode)", t.QualifiedName())
	}
	g := &keyGen{keyCols: t.PrimaryKey, hiveStyle: hiveStyle}
	for _, i := range t.PrimaryKey {
		g.keyNames = append(g.keyNames, t.Columns[i].Name)
		g.keyColumns = append(g.keyColumns, t.Columns[i])
	}
	if strings.TrimSpace(partitionFields) == "" {
		return g, nil
	}
	for _, f := range strings.Split(partitionFields, ",") {
		f = strings.TrimSpace(f)
		i := t.ColumnIndex(f)
		if i < 0 {
			return nil, fmt.Errorf("partition field %q is not a column of %s", f, t.QualifiedName())
		}
		if slices.Contains(g.partCols, i) {
			return nil, fmt.Errorf("partition field %q of %s is named twice", f, t.QualifiedName())
		}
		g.partCols = append(g.partCols, i)
		g.partNames = append(g.partNames, t.Columns[i].Name)
		g.partColumn = append(g.partColumn, t.Columns[i])
	}
	return g, nil
}

// partitionFields is the hoodie.table.partition.fields value ("" when the
// table is not partitioned).
func (g *keyGen) partitionFields() string { return strings.Join(g.partNames, ",") }

// keyGeneratorClass is the Java class Hudi records for this key layout
// (KeyGenUtils.inferKeyGeneratorType).
func (g *keyGen) keyGeneratorClass() string {
	switch {
	case len(g.keyCols) > 1 || len(g.partCols) > 1:
		return "org.apache.hudi.keygen.ComplexKeyGenerator"
	case len(g.partCols) == 0:
		return "org.apache.hudi.keygen.NonpartitionedKeyGenerator"
	default:
		return "org.apache.hudi.keygen.SimpleKeyGenerator"
	}
}

// recordKey is the row's _hoodie_record_key: the key value, or
// "col1:v1,col2:v2" for a composite key.
func (g *keyGen) recordKey(row []any) (string, error) {
	if len(g.keyCols) == 1 {
		i := g.keyCols[0]
		if i >= len(row) {
			return "", fmt.Errorf("row has %d values, the key column is at %d", len(row), i)
		}
		return keyText(g.keyColumns[0], row[i]), nil
	}
	var sb strings.Builder
	for n, i := range g.keyCols {
		if i >= len(row) {
			return "", fmt.Errorf("row has %d values, key column %q is at %d", len(row), g.keyNames[n], i)
		}
		if n > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(g.keyNames[n])
		sb.WriteByte(':')
		sb.WriteString(keyText(g.keyColumns[n], row[i]))
	}
	return sb.String(), nil
}

// partitionPath is the row's _hoodie_partition_path and directory: "" when
// the table is not partitioned, else one level per partition column joined
// by "/", each "value" or "field=value" (hive style), the value escaped
// like Hive path names (KeyGenUtils.getRecordPartitionPath).
func (g *keyGen) partitionPath(row []any) (string, error) {
	if len(g.partCols) == 0 {
		return "", nil
	}
	var sb strings.Builder
	for n, i := range g.partCols {
		if i >= len(row) {
			return "", fmt.Errorf("row has %d values, partition column %q is at %d", len(row), g.partNames[n], i)
		}
		v := defaultPartitionVal
		if row[i] != nil {
			v = escapePathName(valueText(g.partColumn[n], row[i]))
			if v == "" {
				v = defaultPartitionVal
			}
		}
		if n > 0 {
			sb.WriteByte('/')
		}
		if g.hiveStyle {
			sb.WriteString(g.partNames[n])
			sb.WriteByte('=')
		}
		sb.WriteString(v)
	}
	return sb.String(), nil
}

func keyText(c schema.Column, v any) string {
	if v == nil {
		return nullRecordKey
	}
	s := valueText(c, v)
	if s == "" {
		return emptyRecordKey
	}
	return s
}

// valueText formats a column value the way Hudi's key generators print Avro
// values: numbers in decimal, dates as ISO dates, decimals exactly,
// timestamps as their long micros, bytes in base64.
func valueText(c schema.Column, v any) string {
	if d, ok := v.(int32); ok && c.Kind == schema.KindDate {
		return dateText(d)
	}
	if d, ok := v.(schema.Decimal); ok && c.Kind == schema.KindDecimal {
		if r, err := d.Rescale(int32(c.Scale)); err == nil {
			return r.String() // the column's scale, whatever scale the value came with
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case schema.Decimal:
		return x.String()
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	return fmt.Sprint(v)
}

// dateText formats days since the epoch as yyyy-mm-dd.
func dateText(days int32) string {
	return time.Unix(int64(days)*86400, 0).UTC().Format("2006-01-02")
}

// escapePathName is Hive's FileUtils.escapePathName, which Hudi uses for
// partition values: characters that are special in paths become %XX.
func escapePathName(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune("\"#%'*/:=?\\{[]^", r) {
			fmt.Fprintf(&sb, "%%%02X", r)
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
