package worker

import (
	"errors"
	"fmt"
	"strings"

	"github.com/binlake/binlake/connect/spec"
)

// Errors the worker's API returns; the REST layer maps them to HTTP codes.
var (
	// ErrNotFound: no connector or task of that name/id (404).
	ErrNotFound = errors.New("not found")
	// ErrNotSupported: the plugin does not implement an optional
	// capability (400).
	ErrNotSupported = errors.New("not supported")
	// ErrNotRunning: the operation needs running tasks (409).
	ErrNotRunning = errors.New("not running")
	// ErrBadRequest: a malformed argument such as an invalid name (400).
	ErrBadRequest = errors.New("bad request")
)

// ValidationError lists every problem with a connector config (400).
type ValidationError struct {
	Fields []spec.FieldError
}

// Error joins the field errors.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return fmt.Sprintf("invalid config: %s", strings.Join(parts, "; "))
}
