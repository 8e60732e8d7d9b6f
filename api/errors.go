package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/connect/worker"
)

// ErrorBody is every error response: the HTTP code again, a message, and
// on 400 for a config the field errors.
type ErrorBody struct {
	ErrorCode int               `json:"error_code"`
	Message   string            `json:"message"`
	Errors    []spec.FieldError `json:"errors,omitempty"`
}

func abort(c *gin.Context, code int, msg string, fields []spec.FieldError) {
	c.AbortWithStatusJSON(code, ErrorBody{ErrorCode: code, Message: msg, Errors: fields})
}

// fail maps a worker error to its HTTP code.
func fail(c *gin.Context, err error) {
	var ve *worker.ValidationError
	var ce *worker.ConflictError
	switch {
	case errors.As(err, &ve):
		abort(c, http.StatusBadRequest, "invalid connector config", ve.Fields)
	case errors.As(err, &ce):
		abort(c, http.StatusConflict, ce.Error(), nil)
	case errors.Is(err, worker.ErrNotFound):
		abort(c, http.StatusNotFound, err.Error(), nil)
	case errors.Is(err, worker.ErrBadRequest), errors.Is(err, worker.ErrNotSupported):
		abort(c, http.StatusBadRequest, err.Error(), nil)
	case errors.Is(err, worker.ErrNotRunning):
		abort(c, http.StatusConflict, err.Error(), nil)
	default:
		abort(c, http.StatusInternalServerError, err.Error(), nil)
	}
}
