package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxResponseBytes bounds a registry answer read into memory.
const maxResponseBytes = 16 << 20

// Client talks to a Confluent-compatible schema registry over HTTP. It caches
// schemas by id (immutable in every registry) and ids by (subject, schema).
// It is safe for concurrent use.
type Client struct {
	base     string
	http     *http.Client
	user     string
	password string

	mu       sync.RWMutex
	byID     map[int]string
	idByText map[string]int // subject + "\x00" + schema -> id
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 30 s timeout).
func WithHTTPClient(h *http.Client) ClientOption { return func(c *Client) { c.http = h } }

// WithBasicAuth sets HTTP basic credentials.
func WithBasicAuth(user, password string) ClientOption {
	return func(c *Client) { c.user, c.password = user, password }
}

// NewClient returns a client of the registry at baseURL, e.g.
// "http://127.0.0.1:8082/schema-registry" or
// "http://127.0.0.1:8080/apis/ccompat/v7". It does no I/O.
func NewClient(baseURL string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("schema registry URL %q is not an http(s) URL", baseURL)
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: 30 * time.Second},
		byID: map[int]string{}, idByText: map[string]int{}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding request for %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("building request %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", ContentType+", application/json")
	if body != nil {
		req.Header.Set("Content-Type", ContentType)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling schema registry %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("reading schema registry answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == 0 {
			e.Code = resp.StatusCode
			e.Message = strings.TrimSpace(string(data))
		}
		return fmt.Errorf("%s %s: %w", method, path, e)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding schema registry answer to %s %s: %w", method, path, err)
	}
	return nil
}

func subjectPath(subject string) string { return "/subjects/" + url.PathEscape(subject) }

func versionText(version int) string {
	if version <= 0 {
		return "latest"
	}
	return strconv.Itoa(version)
}

// Register registers an Avro schema under subject and returns its id; a
// schema already registered there returns its existing id. An incompatible
// schema fails with an *Error for which IsIncompatible is true.
func (c *Client) Register(ctx context.Context, subject, schema string) (int, error) {
	key := subject + "\x00" + schema
	c.mu.RLock()
	id, ok := c.idByText[key]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	var out struct {
		ID int `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, subjectPath(subject)+"/versions", RegisterRequest{Schema: schema}, &out); err != nil {
		return 0, fmt.Errorf("registering schema under subject %q: %w", subject, err)
	}
	c.mu.Lock()
	c.idByText[key] = out.ID
	c.byID[out.ID] = schema
	c.mu.Unlock()
	return out.ID, nil
}

// Lookup returns the version of subject that holds schema; IsNotFound is true
// when the subject or the schema is not there.
func (c *Client) Lookup(ctx context.Context, subject, schema string) (*SubjectSchema, error) {
	var out SubjectSchema
	if err := c.do(ctx, http.MethodPost, subjectPath(subject), RegisterRequest{Schema: schema}, &out); err != nil {
		return nil, fmt.Errorf("looking up schema under subject %q: %w", subject, err)
	}
	return &out, nil
}

// SchemaByID returns the schema text registered under id (cached).
func (c *Client) SchemaByID(ctx context.Context, id int) (string, error) {
	c.mu.RLock()
	s, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	var out SchemaByIDResponse
	if err := c.do(ctx, http.MethodGet, "/schemas/ids/"+strconv.Itoa(id), nil, &out); err != nil {
		return "", fmt.Errorf("fetching schema %d: %w", id, err)
	}
	c.mu.Lock()
	c.byID[id] = out.Schema
	c.mu.Unlock()
	return out.Schema, nil
}

// Subjects lists the registered subjects.
func (c *Client) Subjects(ctx context.Context) ([]string, error) {
	var out []string
	if err := c.do(ctx, http.MethodGet, "/subjects", nil, &out); err != nil {
		return nil, fmt.Errorf("listing subjects: %w", err)
	}
	return out, nil
}

// Versions lists the version numbers of subject, oldest first.
func (c *Client) Versions(ctx context.Context, subject string) ([]int, error) {
	var out []int
	if err := c.do(ctx, http.MethodGet, subjectPath(subject)+"/versions", nil, &out); err != nil {
		return nil, fmt.Errorf("listing versions of subject %q: %w", subject, err)
	}
	return out, nil
}

// SchemaVersion returns one version of subject; version <= 0 means latest.
func (c *Client) SchemaVersion(ctx context.Context, subject string, version int) (*SubjectSchema, error) {
	var out SubjectSchema
	if err := c.do(ctx, http.MethodGet, subjectPath(subject)+"/versions/"+versionText(version), nil, &out); err != nil {
		return nil, fmt.Errorf("fetching version %s of subject %q: %w", versionText(version), subject, err)
	}
	return &out, nil
}

// TestCompatibility asks the registry whether schema is compatible with a
// version of subject (version <= 0: latest) and returns its messages.
func (c *Client) TestCompatibility(ctx context.Context, subject string, version int, schema string) (bool, []string, error) {
	var out CompatibilityResponse
	path := "/compatibility" + subjectPath(subject) + "/versions/" + versionText(version) + "?verbose=true"
	if err := c.do(ctx, http.MethodPost, path, RegisterRequest{Schema: schema}, &out); err != nil {
		return false, nil, fmt.Errorf("testing compatibility with subject %q: %w", subject, err)
	}
	return out.IsCompatible, out.Messages, nil
}

// Compatibility returns the level that applies to subject: its own, or the
// global one when it has none ("" subject: the global level).
func (c *Client) Compatibility(ctx context.Context, subject string) (Level, error) {
	var out ConfigResponse
	if subject != "" {
		err := c.do(ctx, http.MethodGet, "/config/"+url.PathEscape(subject)+"?defaultToGlobal=true", nil, &out)
		if err == nil && out.CompatibilityLevel != "" {
			return out.CompatibilityLevel, nil
		}
		if err != nil && !IsNotFound(err) {
			return "", fmt.Errorf("reading compatibility of subject %q: %w", subject, err)
		}
	}
	if err := c.do(ctx, http.MethodGet, "/config", nil, &out); err != nil {
		return "", fmt.Errorf("reading global compatibility: %w", err)
	}
	if out.CompatibilityLevel == "" {
		return DefaultLevel, nil
	}
	return out.CompatibilityLevel, nil
}

// SubjectCompatibility returns the subject's own level, found=false when it
// has none.
func (c *Client) SubjectCompatibility(ctx context.Context, subject string) (Level, bool, error) {
	var out ConfigResponse
	err := c.do(ctx, http.MethodGet, "/config/"+url.PathEscape(subject), nil, &out)
	if IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading compatibility of subject %q: %w", subject, err)
	}
	return out.CompatibilityLevel, out.CompatibilityLevel != "", nil
}

// SetCompatibility sets the level of subject ("" subject: the global level).
func (c *Client) SetCompatibility(ctx context.Context, subject string, level Level) error {
	path := "/config"
	if subject != "" {
		path += "/" + url.PathEscape(subject)
	}
	if err := c.do(ctx, http.MethodPut, path, ConfigRequest{Compatibility: level}, nil); err != nil {
		return fmt.Errorf("setting compatibility of %q to %s: %w", subject, level, err)
	}
	return nil
}

// DeleteCompatibility removes the subject's own level so the global one
// applies again.
func (c *Client) DeleteCompatibility(ctx context.Context, subject string) error {
	if err := c.do(ctx, http.MethodDelete, "/config/"+url.PathEscape(subject), nil, nil); err != nil && !IsNotFound(err) {
		return fmt.Errorf("deleting compatibility of subject %q: %w", subject, err)
	}
	return nil
}

// DeleteSubject deletes subject (soft, or permanently after a soft delete)
// and returns the versions it removed.
func (c *Client) DeleteSubject(ctx context.Context, subject string, permanent bool) ([]int, error) {
	var out []int
	path := subjectPath(subject)
	if permanent {
		path += "?permanent=true"
	}
	if err := c.do(ctx, http.MethodDelete, path, nil, &out); err != nil {
		return nil, fmt.Errorf("deleting subject %q: %w", subject, err)
	}
	c.forgetSubject(subject)
	return out, nil
}

// DeleteVersion deletes one version of subject (soft, or permanently).
func (c *Client) DeleteVersion(ctx context.Context, subject string, version int, permanent bool) error {
	path := subjectPath(subject) + "/versions/" + versionText(version)
	if permanent {
		path += "?permanent=true"
	}
	if err := c.do(ctx, http.MethodDelete, path, nil, nil); err != nil {
		return fmt.Errorf("deleting version %s of subject %q: %w", versionText(version), subject, err)
	}
	c.forgetSubject(subject)
	return nil
}

func (c *Client) forgetSubject(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.idByText {
		if strings.HasPrefix(k, subject+"\x00") {
			delete(c.idByText, k)
		}
	}
}
