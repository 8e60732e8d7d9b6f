// Package worker is binlake's standalone worker runtime: it hosts
// connectors and their tasks, drives their lifecycle (create, pause,
// resume, stop, restart, delete) through a table-driven state machine,
// supervises tasks with exponential backoff and a give-up limit, runs the
// data paths (source: poll -> transforms -> converter -> producer -> ack;
// sink: pull -> converter -> put -> flush -> commit offsets), and persists
// connector configs and target states under the data directory so that a
// restarted worker brings every connector back in its state.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/plugin"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/connect/transform"
)

// Worker hosts connectors in one process. Its methods are safe for
// concurrent use.
type Worker struct {
	opts  Options
	log   *slog.Logger
	store *recordStore

	mu      sync.Mutex
	conns   map[string]*connRuntime
	started bool
	closed  bool
}

// New returns a worker; it does no I/O. Start loads and starts the
// persisted connectors.
func New(opts Options) (*Worker, error) {
	opts.fill()
	if opts.DataDir == "" {
		return nil, errors.New("creating worker: data directory is not set")
	}
	if opts.NewProducer == nil || opts.NewReader == nil {
		return nil, errors.New("creating worker: producer and reader factories are required")
	}
	return &Worker{opts: opts, log: opts.Logger, conns: map[string]*connRuntime{}}, nil
}

// Start creates the data directory, loads every persisted connector and
// starts it in its persisted state.
func (w *Worker) Start(ctx context.Context) error {
	store, err := newRecordStore(filepath.Join(w.opts.DataDir, "state", "connectors"))
	if err != nil {
		return err
	}
	recs, err := store.load()
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.store = store
	for _, rec := range recs {
		c := w.newConn(rec)
		w.conns[rec.Name] = c
	}
	conns := w.sortedConns()
	w.started = true
	w.mu.Unlock()
	for _, c := range conns {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.opMu.Lock()
		c.start()
		c.opMu.Unlock()
		w.log.Info("connector loaded", "connector", c.name, "target", c.rec.Target)
	}
	return nil
}

// Ready reports whether Start completed and Shutdown has not begun.
func (w *Worker) Ready() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.started && !w.closed
}

// Shutdown stops every connector in two phases (soft stop and wait for
// acks up to the shutdown timeout, then hard stop) without changing their
// persisted states. ctx bounds the whole shutdown.
func (w *Worker) Shutdown(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	conns := w.sortedConns()
	w.mu.Unlock()
	timeout := w.opts.ShutdownTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(dl)*2/3, time.Millisecond))
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.opMu.Lock()
			defer c.opMu.Unlock()
			c.stop(timeout)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shutting down worker: %w", ctx.Err())
	}
}

func (w *Worker) newConn(rec *record) *connRuntime {
	return &connRuntime{w: w, name: rec.Name, rec: rec, state: Unassigned, log: w.log.With("connector", rec.Name)}
}

func (w *Worker) sortedConns() []*connRuntime {
	out := make([]*connRuntime, 0, len(w.conns))
	for _, c := range w.conns {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Plugins returns the installed plugins sorted by name.
func (w *Worker) Plugins() []plugin.Plugin { return w.opts.Plugins.All() }

// Plugin returns the installed plugin of that name.
func (w *Worker) Plugin(name string) (plugin.Plugin, bool) { return w.opts.Plugins.Lookup(name) }

// Validate checks cfg for a connector of the given name (name may be ""
// when validating without creating). It returns the plugin, the config with
// defaults, and the field errors (nil when valid).
func (w *Worker) Validate(name string, cfg connect.Config) (plugin.Plugin, connect.Config, []spec.FieldError) {
	return w.validate(name, cfg)
}

func (w *Worker) validate(name string, raw connect.Config) (plugin.Plugin, connect.Config, []spec.FieldError) {
	class := strings.TrimSpace(raw[spec.ConnectorClass])
	var p plugin.Plugin
	var ok bool
	if class != "" {
		p, ok = w.opts.Plugins.Lookup(class)
	}
	if !ok {
		var ferrs []spec.FieldError
		if class != "" {
			ferrs = append(ferrs, spec.FieldError{Field: spec.ConnectorClass,
				Message: fmt.Sprintf("unknown plugin %q; installed: %s", class, strings.Join(w.pluginNames(), ", "))})
		} else {
			ferrs = append(ferrs, spec.FieldError{Field: spec.ConnectorClass, Message: "required key is missing"})
		}
		return plugin.Plugin{}, nil, ferrs
	}
	full := p.FullSpec()
	ferrs := full.Validate(raw)
	if n, ok := raw[spec.Name]; ok && name != "" && n != name {
		ferrs = append(ferrs, spec.FieldError{Field: spec.Name, Message: fmt.Sprintf("name %q does not match the connector %q", n, name)})
	}
	cfg := full.WithDefaults(raw)
	if len(ferrs) == 0 && p.Validate != nil {
		ferrs = append(ferrs, p.Validate(cfg)...)
	}
	if conv := spec.GetString(cfg, spec.ValueConverter); w.opts.Converters[conv] == nil && !hasField(ferrs, spec.ValueConverter) {
		ferrs = append(ferrs, spec.FieldError{Field: spec.ValueConverter,
			Message: fmt.Sprintf("converter %q is not available in this build", conv)})
	}
	if len(spec.GetList(cfg, spec.Transforms)) > 0 && !hasField(ferrs, spec.Transforms) {
		switch {
		case w.opts.Transforms == nil:
			ferrs = append(ferrs, spec.FieldError{Field: spec.Transforms, Message: "transforms are not supported by this build"})
		case w.opts.ValidateTransforms != nil:
			ferrs = append(ferrs, w.opts.ValidateTransforms(cfg)...)
		}
	}
	sort.Slice(ferrs, func(i, j int) bool { return ferrs[i].Field < ferrs[j].Field })
	if len(ferrs) == 0 {
		ferrs = nil
	}
	if name != "" {
		cfg[spec.Name] = name
	}
	return p, cfg, ferrs
}

func hasField(ferrs []spec.FieldError, f string) bool {
	for _, e := range ferrs {
		if e.Field == f {
			return true
		}
	}
	return false
}

func (w *Worker) pluginNames() []string {
	var names []string
	for _, p := range w.opts.Plugins.All() {
		names = append(names, p.Name)
	}
	return names
}

// Redact returns cfg with its secrets replaced by spec.Redacted, using the
// spec of the plugin cfg names (name-based redaction when unknown).
func (w *Worker) Redact(cfg connect.Config) connect.Config {
	if p, ok := w.opts.Plugins.Lookup(cfg[spec.ConnectorClass]); ok {
		return transform.Redact(p.FullSpec().Redact(cfg))
	}
	return transform.Redact(spec.Common.Redact(cfg))
}

func (w *Worker) conn(name string) (*connRuntime, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.conns[name]
	if !ok {
		return nil, fmt.Errorf("connector %q: %w", name, ErrNotFound)
	}
	return c, nil
}

func (w *Worker) checkName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("connector name %q must be 1-100 characters from A-Z, a-z, 0-9, _, . and -, starting with a letter or digit: %w",
			name, ErrBadRequest)
	}
	return nil
}

// Create validates cfg, persists the connector and starts it (201). It
// returns a *ConflictError when the name exists and a *ValidationError for a
// bad config.
func (w *Worker) Create(name string, cfg connect.Config) error {
	if err := w.checkName(name); err != nil {
		return err
	}
	_, _, ferrs := w.validate(name, cfg)
	if ferrs != nil {
		return &ValidationError{Fields: ferrs}
	}
	w.mu.Lock()
	if w.store == nil || w.closed {
		w.mu.Unlock()
		return fmt.Errorf("creating connector %s: worker is not running: %w", name, ErrNotRunning)
	}
	if c, ok := w.conns[name]; ok {
		w.mu.Unlock()
		_, err := Transition(c.observed(), ActCreate)
		return err
	}
	target, _ := Transition(absent, ActCreate)
	now := time.Now().UTC()
	stored := cfg.Clone()
	stored[spec.Name] = name
	rec := &record{Name: name, Config: stored, Target: target, Created: now, Updated: now}
	if err := w.store.put(rec); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("creating connector %s: %w", name, err)
	}
	c := w.newConn(rec)
	c.opMu.Lock()
	w.conns[name] = c
	w.mu.Unlock()
	defer c.opMu.Unlock()
	c.start()
	w.log.Info("connector created", "connector", name, "config", w.Redact(stored))
	return nil
}

// PutConfig replaces the config of an existing connector (restarting it in
// its state) or creates it. It reports whether it created the connector.
func (w *Worker) PutConfig(name string, cfg connect.Config) (created bool, err error) {
	if err := w.checkName(name); err != nil {
		return false, err
	}
	c, err := w.conn(name)
	if errors.Is(err, ErrNotFound) {
		err := w.Create(name, cfg)
		var ce *ConflictError
		if errors.As(err, &ce) { // created concurrently: update it instead
			return w.PutConfig(name, cfg)
		}
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	if _, _, ferrs := w.validate(name, cfg); ferrs != nil {
		return false, &ValidationError{Fields: ferrs}
	}
	return false, w.apply(c, ActUpdate, func(rec *record) {
		rec.Config = cfg.Clone()
		rec.Config[spec.Name] = name
	})
}

// Pause makes a connector's tasks idle (they stay started).
func (w *Worker) Pause(name string) error { return w.act(name, ActPause) }

// Resume lets paused tasks go on, or starts a stopped or failed connector.
func (w *Worker) Resume(name string) error { return w.act(name, ActResume) }

// Stop stops a connector's tasks, keeping its config and checkpoints.
func (w *Worker) Stop(name string) error { return w.act(name, ActStop) }

// Restart stops and starts a connector and all its tasks.
func (w *Worker) Restart(name string) error { return w.act(name, ActRestart) }

func (w *Worker) act(name string, a Action) error {
	c, err := w.conn(name)
	if err != nil {
		return err
	}
	return w.apply(c, a, nil)
}

// apply runs action a on c: the state machine decides the new target, the
// record is persisted, then the runtime follows.
func (w *Worker) apply(c *connRuntime, a Action, edit func(*record)) error {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	from := c.observed()
	to, err := Transition(from, a)
	if err != nil {
		return err
	}
	c.mu.Lock()
	rec := *c.rec
	c.mu.Unlock()
	if edit != nil {
		edit(&rec)
	}
	rec.Target = to
	rec.Updated = time.Now().UTC()
	if err := w.store.put(&rec); err != nil {
		return fmt.Errorf("saving connector %s: %w", c.name, err)
	}
	c.mu.Lock()
	c.rec = &rec
	c.mu.Unlock()
	timeout := w.opts.ShutdownTimeout
	switch {
	case a == ActPause && c.active():
		c.setPaused(true)
	case a == ActResume && c.active() && from != Failed:
		c.setPaused(false)
	case a == ActStop:
		c.stop(timeout)
	case (a == ActPause || a == ActResume) && from == Stopped:
		c.start()
	default: // update, restart, resume/pause of a failed connector
		c.stop(timeout)
		c.start()
	}
	w.log.Info("connector "+string(a), "connector", c.name, "from", from, "target", to)
	return nil
}

// Delete stops and removes a connector. Its checkpoints and data directory
// are kept unless purge is set.
func (w *Worker) Delete(ctx context.Context, name string, purge bool) error {
	c, err := w.conn(name)
	if err != nil {
		return err
	}
	c.opMu.Lock()
	defer c.opMu.Unlock()
	if _, err := Transition(c.observed(), ActDelete); err != nil {
		return err
	}
	c.stop(w.opts.ShutdownTimeout)
	if err := w.store.delete(name); err != nil {
		return err
	}
	w.mu.Lock()
	delete(w.conns, name)
	w.mu.Unlock()
	w.log.Info("connector deleted", "connector", name, "purge", purge)
	if !purge {
		return nil
	}
	if err := os.RemoveAll(c.dataDir()); err != nil {
		return fmt.Errorf("purging data of connector %s: %w", name, err)
	}
	if cp := w.opts.Checkpoints; cp != nil {
		keys, err := cp.List(ctx, name+"/")
		if err != nil {
			return fmt.Errorf("listing checkpoints of connector %s: %w", name, err)
		}
		for k := range keys {
			if err := cp.Delete(ctx, k); err != nil {
				return fmt.Errorf("deleting checkpoint %s: %w", k, err)
			}
		}
	}
	return nil
}

// Connectors returns the connector names, sorted.
func (w *Worker) Connectors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := make([]string, 0, len(w.conns))
	for n := range w.conns {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Config returns a connector's config with secrets redacted.
func (w *Worker) Config(name string) (connect.Config, error) {
	c, err := w.conn(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	cfg := c.rec.Config.Clone()
	c.mu.Unlock()
	return w.Redact(cfg), nil
}

// ConnectorState is the connector part of a status.
type ConnectorState struct {
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// Status is a connector's status (Kafka Connect's shape).
type Status struct {
	Name      string         `json:"name"`
	Connector ConnectorState `json:"connector"`
	Tasks     []TaskStatus   `json:"tasks"`
	Type      string         `json:"type"`
	Target    State          `json:"target_state"`
}

// Status returns a connector's status.
func (w *Worker) Status(name string) (*Status, error) {
	c, err := w.conn(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	st := &Status{Name: name, Connector: ConnectorState{State: c.state, WorkerID: w.opts.WorkerID, Trace: c.trace},
		Type: string(c.plugin.Kind), Target: c.rec.Target, Tasks: []TaskStatus{}}
	if st.Type == "" {
		st.Type = "unknown"
	}
	tasks := append([]*taskRunner(nil), c.tasks...)
	cfg := c.rec.Config
	c.mu.Unlock()
	st.Connector.Trace = w.redactText(cfg, st.Connector.Trace)
	for _, r := range tasks {
		ts := r.status()
		ts.Trace, ts.Detail = w.redactText(cfg, ts.Trace), w.redactText(cfg, ts.Detail)
		st.Tasks = append(st.Tasks, ts)
	}
	return st, nil
}

// redactText removes the values of cfg's secrets from s (an error trace may
// quote a DSN or a URL with credentials).
func (w *Worker) redactText(cfg connect.Config, s string) string {
	if s == "" {
		return s
	}
	red := w.Redact(cfg)
	for k, v := range cfg {
		if red[k] == spec.Redacted && len(v) >= 3 {
			s = strings.ReplaceAll(s, v, spec.Redacted)
		}
	}
	return s
}

// TaskInfo is one task and its config (secrets redacted).
type TaskInfo struct {
	ID     TaskID         `json:"id"`
	Config connect.Config `json:"config"`
}

// TaskID names a task (Kafka Connect's shape).
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// Tasks returns a connector's tasks with their configs.
func (w *Worker) Tasks(name string) ([]TaskInfo, error) {
	c, err := w.conn(name)
	if err != nil {
		return nil, err
	}
	out := []TaskInfo{}
	for _, r := range c.taskList() {
		out = append(out, TaskInfo{ID: TaskID{Connector: name, Task: r.id}, Config: w.Redact(r.cfg)})
	}
	return out, nil
}

// TaskStatus returns one task's status.
func (w *Worker) TaskStatus(name string, id int) (*TaskStatus, error) {
	c, err := w.conn(name)
	if err != nil {
		return nil, err
	}
	r, ok := c.task(id)
	if !ok {
		return nil, fmt.Errorf("task %d of connector %q: %w", id, name, ErrNotFound)
	}
	st := r.status()
	c.mu.Lock()
	cfg := c.rec.Config
	c.mu.Unlock()
	st.Trace, st.Detail = w.redactText(cfg, st.Trace), w.redactText(cfg, st.Detail)
	return &st, nil
}

// RestartTask stops one task and starts it again with the same config
// (bringing a FAILED task back).
func (w *Worker) RestartTask(name string, id int) error {
	c, err := w.conn(name)
	if err != nil {
		return err
	}
	c.opMu.Lock()
	defer c.opMu.Unlock()
	r, ok := c.task(id)
	if !ok {
		return fmt.Errorf("task %d of connector %q: %w", id, name, ErrNotFound)
	}
	r.stop(w.opts.ShutdownTimeout)
	c.mu.Lock()
	defer c.mu.Unlock()
	nr := newTaskRunner(c, id, r.cfg, c.rec.Target == Paused)
	for i := range c.tasks {
		if c.tasks[i] == r {
			c.tasks[i] = nr
		}
	}
	nr.start()
	w.log.Info("task restarted", "connector", name, "task", id)
	return nil
}

// Offsets is a connector's positions: the source checkpoints from the
// store (key = connector/task), and what tasks implementing
// connect.OffsetReporter report (sink committed positions).
type Offsets struct {
	Name        string                     `json:"name"`
	Type        string                     `json:"type"`
	Checkpoints map[string]json.RawMessage `json:"checkpoints,omitempty"`
	Tasks       map[string]map[string]any  `json:"tasks,omitempty"`
}

// Offsets returns a connector's positions.
func (w *Worker) Offsets(ctx context.Context, name string) (*Offsets, error) {
	c, err := w.conn(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	kind := c.plugin.Kind
	c.mu.Unlock()
	out := &Offsets{Name: name, Type: string(kind)}
	if cp := w.opts.Checkpoints; cp != nil && kind != plugin.Sink {
		kv, err := cp.List(ctx, name+"/")
		if err != nil {
			return nil, fmt.Errorf("reading checkpoints of %s: %w", name, err)
		}
		out.Checkpoints = map[string]json.RawMessage{}
		for k, v := range kv {
			if json.Valid(v) {
				out.Checkpoints[k] = json.RawMessage(v)
			} else {
				b, _ := json.Marshal(v) // base64 of an opaque value
				out.Checkpoints[k] = b
			}
		}
	}
	for _, r := range c.taskList() {
		rep, ok := r.currentTask().(connect.OffsetReporter)
		if !ok {
			continue
		}
		m, err := rep.Offsets(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading offsets of task %d: %w", r.id, err)
		}
		if out.Tasks == nil {
			out.Tasks = map[string]map[string]any{}
		}
		out.Tasks[fmt.Sprint(r.id)] = m
	}
	if out.Checkpoints == nil && out.Tasks == nil && kind == plugin.Sink {
		if p, ok := w.opts.Plugins.Lookup(c.rec.Config[spec.ConnectorClass]); !ok || !reportsOffsets(p) {
			return nil, fmt.Errorf("plugin of connector %s does not report offsets: %w", name, ErrNotSupported)
		}
		return nil, fmt.Errorf("connector %s has no running task to report offsets: %w", name, ErrNotRunning)
	}
	return out, nil
}

// Snapshot asks a running source connector to (re-)snapshot tables
// ("db.table"): through its connector instance when that implements
// connect.Snapshotter, else through each running task that does. It returns
// ErrNotSupported when nothing implements it and ErrNotRunning when the
// connector has no running task.
func (w *Worker) Snapshot(ctx context.Context, name string, tables []string) error {
	c, err := w.conn(name)
	if err != nil {
		return err
	}
	c.opMu.Lock()
	defer c.opMu.Unlock()
	p, ok := w.opts.Plugins.Lookup(c.rec.Config[spec.ConnectorClass])
	if !ok || p.Kind != plugin.Source {
		return fmt.Errorf("snapshots need a source connector: %w", ErrNotSupported)
	}
	st := c.observed()
	_, connSnaps := p.New().(connect.Snapshotter)
	if !connSnaps && !w.pluginSnapshots(p) {
		return fmt.Errorf("plugin %s does not support ad-hoc snapshots: %w", p.Name, ErrNotSupported)
	}
	if st != Running {
		return fmt.Errorf("connector %s is %s: %w", name, st, ErrNotRunning)
	}
	if s, ok := c.instance.(connect.Snapshotter); ok {
		if err := s.Snapshot(ctx, tables); err != nil {
			return fmt.Errorf("starting snapshot: %w", err)
		}
		return nil
	}
	called := 0
	for _, r := range c.taskList() {
		s, ok := r.currentTask().(connect.Snapshotter)
		if !ok {
			continue
		}
		if err := s.Snapshot(ctx, tables); err != nil {
			return fmt.Errorf("starting snapshot on task %d: %w", r.id, err)
		}
		called++
	}
	if called == 0 {
		return fmt.Errorf("connector %s has no running task: %w", name, ErrNotRunning)
	}
	return nil
}

// reportsOffsets reports whether a sink plugin's tasks implement
// connect.OffsetReporter.
func reportsOffsets(p plugin.Plugin) bool {
	sc, ok := p.New().(connect.SinkConnector)
	if !ok {
		return false
	}
	_, ok = sc.NewTask().(connect.OffsetReporter)
	return ok
}

// pluginSnapshots reports whether a plugin's source tasks implement
// connect.Snapshotter.
func (w *Worker) pluginSnapshots(p plugin.Plugin) bool {
	sc, ok := p.New().(connect.SourceConnector)
	if !ok {
		return false
	}
	_, ok = sc.NewTask().(connect.Snapshotter)
	return ok
}
