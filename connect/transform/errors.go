package transform

import (
	"fmt"
	"strings"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

// RecordError reports a transform that failed on one record. Event is the
// input event as the source produced it (its Source gives the position);
// Transform is the alias of the failing transform. The worker fails the task
// with it, or routes Event to the dead-letter topic under
// errors.tolerance=all.
type RecordError struct {
	Event     *connect.ChangeEvent
	Transform string
	Err       error
}

// Error describes the failure with the record's position.
func (e *RecordError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "transform %q", e.Transform)
	if ev := e.Event; ev != nil {
		fmt.Fprintf(&sb, " on %s.%s at sequence %d", ev.Source.Database, ev.Source.Table, ev.Source.Sequence)
		if ev.Source.File != "" {
			fmt.Fprintf(&sb, " (binlog %s:%d)", ev.Source.File, ev.Source.Pos)
		}
	}
	sb.WriteString(": ")
	if e.Err != nil {
		sb.WriteString(e.Err.Error())
	}
	return sb.String()
}

// Unwrap returns the underlying error.
func (e *RecordError) Unwrap() error { return e.Err }

// ConfigError is returned by New for an invalid transforms config; Fields
// holds the same field errors Validate reports.
type ConfigError struct {
	Fields []spec.FieldError
}

// Error joins the field errors.
func (e *ConfigError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid transforms config: " + strings.Join(parts, "; ")
}

// FieldErrors returns the field errors, so that a caller that only sees an
// error (the worker calling its TransformFactory) can report them per field
// through an interface check, without importing this package.
func (e *ConfigError) FieldErrors() []spec.FieldError { return e.Fields }
