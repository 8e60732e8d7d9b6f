package lake

import (
	"fmt"

	"github.com/binlake/binlake/schema"
)

// CheckRow verifies that a row image (nil is accepted) matches its table
// version: one value per column, each nil or of its kind's Go type, and no
// nil in a required column.
func CheckRow(t *schema.Table, values []any) error {
	if values == nil {
		return nil
	}
	if len(values) != len(t.Columns) {
		return fmt.Errorf("row has %d values for %d columns of %s", len(values), len(t.Columns), t.QualifiedName())
	}
	for i, v := range values {
		c := &t.Columns[i]
		if v == nil {
			if !c.Optional {
				return fmt.Errorf("column %q of %s is NOT NULL but the row has no value", c.Name, t.QualifiedName())
			}
			continue
		}
		ok := c.Kind.Holds(v)
		if d, isDec := v.(schema.Decimal); isDec && d.Unscaled == nil {
			ok = false // the writers need the digits
		}
		if !ok {
			return fmt.Errorf("column %q of %s (%s) holds a %T", c.Name, t.QualifiedName(), c.Kind, v)
		}
	}
	return nil
}
