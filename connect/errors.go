package connect

import (
	"errors"
	"fmt"
)

// TerminalError marks an error that retrying will not fix (bad credentials,
// binlog purged, incompatible schema, unsupported server config). The worker
// fails the task with its message instead of restarting it.
type TerminalError struct {
	Err error
	// Hint tells the operator what to do, in plain words.
	Hint string
}

// Error returns the error text followed by the hint.
func (e *TerminalError) Error() string {
	if e.Hint == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v; %s", e.Err, e.Hint)
}

// Unwrap returns the wrapped error.
func (e *TerminalError) Unwrap() error { return e.Err }

// Terminal marks err as terminal with a hint for the operator. It returns nil
// for a nil err.
func Terminal(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &TerminalError{Err: err, Hint: hint}
}

// IsTerminal reports whether err (or an error it wraps) is terminal.
func IsTerminal(err error) bool {
	var t *TerminalError
	return errors.As(err, &t)
}
