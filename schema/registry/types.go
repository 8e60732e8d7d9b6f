// Package registry is binlake's view of a Confluent-compatible schema
// registry: the REST API's value types and error codes, the compatibility
// levels, and Client, an HTTP client that works against any registry serving
// that API (Confluent, the embedded one in schema/registry/embedded, Apicurio's
// ccompat API, Karapace, Redpanda). Compatibility rules live in
// schema/registry/compat.
package registry

import (
	"fmt"
	"strings"
)

// ContentType is the media type of the registry API's requests and responses.
const ContentType = "application/vnd.schemaregistry.v1+json"

// Level is a subject's compatibility level.
type Level string

// The compatibility levels of the Confluent API.
const (
	None               Level = "NONE"
	Backward           Level = "BACKWARD"
	BackwardTransitive Level = "BACKWARD_TRANSITIVE"
	Forward            Level = "FORWARD"
	ForwardTransitive  Level = "FORWARD_TRANSITIVE"
	Full               Level = "FULL"
	FullTransitive     Level = "FULL_TRANSITIVE"
)

// DefaultLevel is the global level of a fresh registry (Confluent's default).
const DefaultLevel = Backward

// ParseLevel validates a level name (case-insensitive).
func ParseLevel(s string) (Level, error) {
	l := Level(strings.ToUpper(strings.TrimSpace(s)))
	switch l {
	case None, Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive:
		return l, nil
	}
	return "", fmt.Errorf("unknown compatibility level %q", s)
}

// Transitive reports whether the level checks every earlier version rather
// than only the latest.
func (l Level) Transitive() bool { return strings.HasSuffix(string(l), "_TRANSITIVE") }

// ChecksBackward reports whether the new schema must read data of old ones.
func (l Level) ChecksBackward() bool {
	return l == Backward || l == BackwardTransitive || l == Full || l == FullTransitive
}

// ChecksForward reports whether old schemas must read data of the new one.
func (l Level) ChecksForward() bool {
	return l == Forward || l == ForwardTransitive || l == Full || l == FullTransitive
}

// SchemaTypeAvro is the only schema type binlake registers.
const SchemaTypeAvro = "AVRO"

// Reference is a schema reference (accepted and stored; binlake's own schemas
// have none).
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// SubjectSchema is one registered version of a subject, as GET
// /subjects/{s}/versions/{v} returns it.
type SubjectSchema struct {
	Subject    string      `json:"subject"`
	Version    int         `json:"version"`
	ID         int         `json:"id"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
	Schema     string      `json:"schema"`
}

// RegisterRequest is the body of POST /subjects/{s}/versions, POST
// /subjects/{s} and the compatibility route.
type RegisterRequest struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
}

// SchemaByIDResponse is the body of GET /schemas/ids/{id}.
type SchemaByIDResponse struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
}

// ConfigResponse is the body of GET /config and GET /config/{s}; PUT uses
// ConfigRequest.
type ConfigResponse struct {
	CompatibilityLevel Level `json:"compatibilityLevel"`
}

// ConfigRequest is the body of PUT /config and PUT /config/{s}.
type ConfigRequest struct {
	Compatibility Level `json:"compatibility"`
}

// CompatibilityResponse is the body of POST /compatibility/....
type CompatibilityResponse struct {
	IsCompatible bool     `json:"is_compatible"`
	Messages     []string `json:"messages,omitempty"`
}

// ModeResponse is the body of GET/PUT /mode.
type ModeResponse struct {
	Mode string `json:"mode"`
}
