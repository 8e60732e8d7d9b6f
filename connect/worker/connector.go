package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/plugin"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/converter"
)

type kindOf int

const (
	sourceKind kindOf = iota
	sinkKind
)

// connRuntime hosts one connector: its persisted record, the connector
// instance, and its task runners.
type connRuntime struct {
	w    *Worker
	name string
	log  *slog.Logger

	// opMu serializes lifecycle operations on this connector.
	opMu sync.Mutex

	mu     sync.Mutex
	rec    *record
	state  State // observed connector state
	trace  string
	plugin plugin.Plugin
	tasks  []*taskRunner
	cancel context.CancelFunc
	done   chan struct{} // closed when the task-config goroutine ends

	// Set by start before tasks run; read-only while they run.
	instance  connect.Connector
	conv      converter.Converter
	transform Transform
}

func (c *connRuntime) kind() kindOf {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plugin.Kind == plugin.Source {
		return sourceKind
	}
	return sinkKind
}

func (c *connRuntime) dataDir() string { return filepath.Join(c.w.opts.DataDir, "connectors", c.name) }

func (c *connRuntime) setState(s State, trace string) {
	c.mu.Lock()
	c.state, c.trace = s, trace
	c.mu.Unlock()
}

// observed returns the connector's state for the state machine: FAILED when
// it failed, else its target state.
func (c *connRuntime) observed() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == Failed {
		return Failed
	}
	return c.rec.Target
}

// start brings the connector to its target state. Caller holds opMu and
// has stopped it before.
func (c *connRuntime) start() {
	c.mu.Lock()
	rec := c.rec
	c.mu.Unlock()
	if rec.Target == Stopped {
		c.setState(Stopped, "")
		return
	}
	cfg, err := c.prepare(rec.Config)
	if err != nil {
		c.log.Error("connector cannot start", "error", c.redact(err))
		c.setState(Failed, traceOf(err, 0))
		return
	}
	c.setState(Unassigned, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.mu.Lock()
	c.cancel, c.done = cancel, done
	c.mu.Unlock()
	go func() {
		defer close(done)
		c.assign(ctx, cfg)
	}()
}

// prepare validates the config against the plugin and builds the
// connector instance, converter and transforms.
func (c *connRuntime) prepare(raw connect.Config) (connect.Config, error) {
	p, cfg, ferrs := c.w.validate(c.name, raw)
	if len(ferrs) > 0 {
		return nil, connect.Terminal(&ValidationError{Fields: ferrs}, "fix the config with PUT /connectors/"+c.name+"/config")
	}
	c.mu.Lock()
	c.plugin = p
	c.mu.Unlock()
	c.instance = p.New()
	switch c.instance.(type) {
	case connect.SourceConnector:
		if p.Kind != plugin.Source {
			return nil, fmt.Errorf("plugin %s is a sink but its connector is a source", p.Name)
		}
	case connect.SinkConnector:
		if p.Kind != plugin.Sink {
			return nil, fmt.Errorf("plugin %s is a source but its connector is a sink", p.Name)
		}
	default:
		return nil, fmt.Errorf("plugin %s returned a connector that is neither a source nor a sink", p.Name)
	}
	name := spec.GetString(cfg, spec.ValueConverter)
	f := c.w.opts.Converters[name]
	if f == nil {
		return nil, fmt.Errorf("converter %q is not available in this build", name)
	}
	conv, err := f(subConfig(cfg, spec.ValueConverter+"."))
	if err != nil {
		return nil, connect.Terminal(fmt.Errorf("building converter %s: %w", name, err), "fix the value.converter.* keys")
	}
	c.conv = conv
	c.transform = nil
	if len(spec.GetList(cfg, spec.Transforms)) > 0 {
		if c.w.opts.Transforms == nil {
			return nil, errors.New("transforms are not supported by this build")
		}
		if c.transform, err = c.w.opts.Transforms(cfg); err != nil {
			return nil, connect.Terminal(fmt.Errorf("building transforms: %w", err), "fix the transforms.* keys")
		}
	}
	if err := os.MkdirAll(c.dataDir(), 0o750); err != nil {
		return nil, fmt.Errorf("creating connector data directory: %w", err)
	}
	return cfg, nil
}

// assign computes the task configs (retrying with backoff) and starts the
// tasks.
func (c *connRuntime) assign(ctx context.Context, cfg connect.Config) {
	policy := c.w.opts.Retry
	maxTasks := max(spec.GetInt(cfg, spec.MaxTasks), 1)
	first := time.Now()
	var taskCfgs []connect.Config
	for attempt := 0; ; attempt++ {
		var err error
		taskCfgs, err = c.taskConfigs(ctx, cfg, maxTasks)
		if err == nil && len(taskCfgs) > maxTasks {
			err = connect.Terminal(fmt.Errorf("plugin returned %d task configs for max.tasks=%d", len(taskCfgs), maxTasks),
				"this is a bug in the plugin")
		}
		if err == nil && c.kind() == sinkKind {
			err = checkTopicAssignment(taskCfgs)
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		if connect.IsTerminal(err) || time.Since(first) >= policy.GiveUpAfter {
			c.log.Error("computing task configs", "error", c.redact(err))
			c.setState(Failed, traceOf(fmt.Errorf("computing task configs: %w", err), 0))
			return
		}
		c.setState(Restarting, traceOf(fmt.Errorf("computing task configs: %w", err), attempt+1))
		if sleepCtx(ctx, policy.backoff(attempt)) != nil {
			return
		}
	}
	p := c.plugin.FullSpec()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	paused := c.rec.Target == Paused
	for i, tc := range taskCfgs {
		merged := cfg.Clone()
		for k, v := range tc {
			merged[k] = v
		}
		r := newTaskRunner(c, i, p.WithDefaults(merged), paused)
		c.tasks = append(c.tasks, r)
		r.start()
	}
	c.state, c.trace = Running, ""
	if paused {
		c.state = Paused
	}
}

// checkTopicAssignment verifies that a sink's task configs give every topic
// to exactly one task: two tasks committing one table would break the
// one-committer-per-table rule of exactly-once.
func checkTopicAssignment(taskCfgs []connect.Config) error {
	owner := map[string]int{}
	for i, tc := range taskCfgs {
		for _, t := range spec.GetList(tc, spec.TopicNames) {
			if j, dup := owner[t]; dup {
				return connect.Terminal(fmt.Errorf("plugin assigned topic %s to tasks %d and %d", t, j, i),
					"this is a bug in the plugin: all queues of a topic must go to one task")
			}
			owner[t] = i
		}
	}
	return nil
}

// taskConfigs calls the plugin, turning a panic into a terminal error.
func (c *connRuntime) taskConfigs(ctx context.Context, cfg connect.Config, maxTasks int) (out []connect.Config, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError(v)
		}
	}()
	return c.instance.TaskConfigs(ctx, cfg.Clone(), maxTasks)
}

// stop stops the task-config goroutine and every task (two-phase, bounded
// by the worker's shutdown timeout). Caller holds opMu.
func (c *connRuntime) stop(timeout time.Duration) {
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.cancel, c.done = nil, nil
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	c.mu.Lock()
	tasks := c.tasks
	c.tasks = nil
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.stop(timeout)
			r.forgetMetrics()
		}()
	}
	wg.Wait()
	c.setState(Stopped, "")
}

// active reports whether the connector has tasks or is computing them.
func (c *connRuntime) active() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done != nil || len(c.tasks) > 0
}

// setPaused pauses or resumes every task in place.
func (c *connRuntime) setPaused(paused bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.tasks {
		if paused {
			r.pause()
		} else {
			r.unpause()
		}
	}
	if c.state == Running || c.state == Paused {
		c.state = Running
		if paused {
			c.state = Paused
		}
	}
}

func (c *connRuntime) task(id int) (*taskRunner, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.tasks {
		if r.id == id {
			return r, true
		}
	}
	return nil, false
}

func (c *connRuntime) taskList() []*taskRunner {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*taskRunner(nil), c.tasks...)
}

// redact renders err with the values of the connector's secrets removed,
// for log lines.
func (c *connRuntime) redact(err error) string {
	c.mu.Lock()
	cfg := c.rec.Config
	c.mu.Unlock()
	return c.w.redactText(cfg, err.Error())
}
