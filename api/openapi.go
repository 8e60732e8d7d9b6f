package api

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// OpenAPIPath turns a gin route path into its OpenAPI form:
// /connectors/:name -> /connectors/{name}, /x/*path -> /x/{path}.
func OpenAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if len(s) > 1 && (s[0] == ':' || s[0] == '*') {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	str     = map[string]any{"type": "string"}
	integer = map[string]any{"type": "integer"}
	boolean = map[string]any{"type": "boolean"}
)

func arr(items map[string]any) map[string]any { return map[string]any{"type": "array", "items": items} }

// schemas are the components of the document.
func schemas() map[string]any {
	states := map[string]any{"type": "string", "enum": []string{"UNASSIGNED", "RUNNING", "PAUSED", "STOPPED", "FAILED", "RESTARTING"}}
	return map[string]any{
		"Config":        map[string]any{"type": "object", "additionalProperties": str, "description": "Config keys to string values (numbers and booleans are accepted and kept as text; secrets are returned as [hidden])."},
		"CreateRequest": obj(map[string]any{"name": str, "config": ref("Config")}, "name", "config"),
		"TaskID":        obj(map[string]any{"connector": str, "task": integer}),
		"ConnectorInfo": obj(map[string]any{"name": str, "config": ref("Config"), "tasks": arr(ref("TaskID")), "type": str}),
		"ConnectorList": map[string]any{"oneOf": []any{arr(str), map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object"}}}},
		"TaskStatus":    obj(map[string]any{"id": integer, "state": states, "worker_id": str, "trace": str, "detail": str}),
		"Status": obj(map[string]any{"name": str, "type": str, "target_state": states, "tasks": arr(ref("TaskStatus")),
			"connector": obj(map[string]any{"state": states, "worker_id": str, "trace": str})}),
		"TaskList":        arr(obj(map[string]any{"id": ref("TaskID"), "config": ref("Config")})),
		"Offsets":         obj(map[string]any{"name": str, "type": str, "checkpoints": map[string]any{"type": "object"}, "tasks": map[string]any{"type": "object"}}),
		"SnapshotRequest": obj(map[string]any{"tables": arr(str)}, "tables"),
		"PluginList":      arr(obj(map[string]any{"class": str, "type": str, "doc": str})),
		"Key": obj(map[string]any{"name": str, "type": str, "default": str, "required": boolean, "doc": str, "secret": boolean,
			"enum": arr(str), "group": str}),
		"KeyList":        arr(ref("Key")),
		"FieldError":     obj(map[string]any{"field": str, "message": str}),
		"ValidateResult": obj(map[string]any{"name": str, "error_count": integer, "errors": arr(ref("FieldError")), "config": ref("Config")}),
		"Health":         obj(map[string]any{"status": str}),
		"Error":          obj(map[string]any{"error_code": integer, "message": str, "errors": arr(ref("FieldError"))}, "error_code", "message"),
		"object":         map[string]any{"type": "object"},
	}
}

// Document returns the OpenAPI 3 document of the server's routes.
func (s *Server) Document() map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range s.routes() {
		p := OpenAPIPath(r.path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		op := map[string]any{"summary": r.summary, "operationId": operationID(r.method, r.path)}
		var params []any
		for _, seg := range strings.Split(r.path, "/") {
			if len(seg) > 1 && (seg[0] == ':' || seg[0] == '*') {
				sch := str
				if seg[1:] == "id" {
					sch = integer
				}
				params = append(params, map[string]any{"name": seg[1:], "in": "path", "required": true, "schema": sch})
			}
		}
		for _, q := range r.query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": str})
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(r.body)}}}
		}
		responses := map[string]any{}
		okResp := map[string]any{"description": http.StatusText(r.ok)}
		switch r.okSchema {
		case "":
		case "text":
			okResp["content"] = map[string]any{"text/plain": map[string]any{"schema": str}}
		default:
			okResp["content"] = map[string]any{"application/json": map[string]any{"schema": ref(r.okSchema)}}
		}
		responses[strconv.Itoa(r.ok)] = okResp
		if r.method == "PUT" && r.path == "/connectors/:name/config" {
			responses["201"] = map[string]any{"description": "Created", "content": map[string]any{"application/json": map[string]any{"schema": ref("ConnectorInfo")}}}
		}
		codes := append([]int(nil), r.errors...)
		if s.opts.Token != "" && !s.public(r.path) {
			codes = append(codes, http.StatusUnauthorized)
		}
		sort.Ints(codes)
		for _, code := range codes {
			responses[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code),
				"content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		}
		op["responses"] = responses
		if s.opts.Token != "" && !s.public(r.path) {
			op["security"] = []any{map[string]any{"bearer": []string{}}}
		}
		paths[p][strings.ToLower(r.method)] = op
	}
	components := map[string]any{"schemas": schemas()}
	if s.opts.Token != "" {
		components["securitySchemes"] = map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}
	}
	version := s.opts.Version
	if version == "" {
		version = "dev"
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "binlake worker REST API", "version": version,
			"description": "Manage connectors and tasks of a binlake worker (Kafka Connect conventions)."},
		"paths":      paths,
		"components": components,
	}
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		seg = strings.TrimLeft(seg, ":*")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '.' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func (s *Server) openapi() gin.HandlerFunc {
	return func(c *gin.Context) { c.JSON(http.StatusOK, s.Document()) }
}
