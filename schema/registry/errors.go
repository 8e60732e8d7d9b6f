package registry

import (
	"errors"
	"fmt"
)

// Error codes of the Confluent API (the error_code field of error bodies).
const (
	CodeSubjectNotFound       = 40401
	CodeVersionNotFound       = 40402
	CodeSchemaNotFound        = 40403
	CodeSubjectSoftDeleted    = 40404
	CodeSubjectNotSoftDeleted = 40405
	CodeVersionSoftDeleted    = 40406
	CodeVersionNotSoftDeleted = 40407
	CodeSubjectConfigNotFound = 40408
	CodeIncompatible          = 409
	CodeInvalidSchema         = 42201
	CodeInvalidVersion        = 42202
	CodeInvalidCompatibility  = 42203
	CodeInvalidMode           = 42204
	CodeOperationNotPermitted = 42205
	CodeInternal              = 50001
)

// Error is an error answer of a registry: the HTTP status and the body's
// error_code and message. It is also the error body the embedded registry
// writes.
type Error struct {
	Status  int    `json:"-"`
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

// Error formats the registry's answer.
func (e *Error) Error() string {
	return fmt.Sprintf("schema registry error %d (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// ErrorCode returns the registry error code in err's chain, or 0.
func ErrorCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// IsNotFound reports whether err is a registry 404 (subject, version or
// schema not found, or soft-deleted).
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == 404
}

// IsIncompatible reports whether err is the registry's 409 for a schema that
// breaks the subject's compatibility level.
func IsIncompatible(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == 409 || e.Code == CodeIncompatible)
}
