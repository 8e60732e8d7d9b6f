package transform

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
)

// TestRecordErrorContract checks what the worker relies on when a transform
// fails on a record: the error is a *RecordError carrying the input event,
// the alias and the position, from Apply and ApplyEvent alike, and it is not
// terminal, so that under errors.tolerance=all the worker dead-letters the
// record instead of failing the task.
func TestRecordErrorContract(t *testing.T) {
	c := mustChain(t, "transforms", "f", "transforms.f.type", "filter", "transforms.f.condition", `after.nope > 1`)
	ev := insert(customers(1), 1)
	for name, apply := range map[string]func() error{
		"Apply":      func() error { _, err := c.Apply(context.Background(), []*connect.ChangeEvent{ev}); return err },
		"ApplyEvent": func() error { _, err := c.ApplyEvent(context.Background(), ev); return err },
	} {
		t.Run(name, func(t *testing.T) {
			err := apply()
			var re *RecordError
			if !errors.As(err, &re) || re.Event != ev || re.Transform != "f" {
				t.Fatalf("err = %v, want a *RecordError of transform f carrying the event", err)
			}
			for _, want := range []string{`transform "f"`, "shop.customers at sequence", "(binlog mysql-bin.000003:4242)", "evaluating condition"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if connect.IsTerminal(err) {
				t.Errorf("connect.IsTerminal(%v) = true: the worker would fail the task instead of dead-lettering the record", err)
			}
		})
	}
}
