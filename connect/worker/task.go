package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/internal/metrics"
)

// errStopped is the cancel cause of a run's context when the task is being
// stopped (as opposed to a send error cancelling it).
var errStopped = errors.New("task is stopping")

// taskRunner supervises one task: it runs it, restarts it with backoff
// after retryable errors, fails it on terminal or persistent ones, and
// stops it in two phases.
type taskRunner struct {
	c   *connRuntime
	id  int
	cfg connect.Config // with defaults
	log *slog.Logger

	mu      sync.Mutex
	state   State
	trace   string
	detail  string
	resume  chan struct{} // non-nil while paused; closed on resume
	current any           // the running connect.SourceTask or SinkTask

	softStop context.CancelCauseFunc
	hardStop context.CancelFunc
	done     chan struct{}
}

func newTaskRunner(c *connRuntime, id int, cfg connect.Config, paused bool) *taskRunner {
	r := &taskRunner{
		c: c, id: id, cfg: cfg, state: Unassigned, done: make(chan struct{}),
		log: c.w.log.With("connector", c.name, "task", id),
	}
	if paused {
		r.resume = make(chan struct{})
	}
	r.publishState(Unassigned)
	return r
}

// start launches the supervisor goroutine.
func (r *taskRunner) start() {
	hard, hardStop := context.WithCancel(context.Background())
	soft, softStop := context.WithCancelCause(hard)
	r.softStop, r.hardStop = softStop, hardStop
	go r.supervise(soft, hard)
}

// stop stops the task in two phases: cancel the soft context (stop polling,
// flush, wait for acks) and wait up to timeout; then cancel the hard
// context and wait a little more. It returns false if the task goroutine
// did not end (it is then abandoned).
func (r *taskRunner) stop(timeout time.Duration) bool {
	r.softStop(errStopped)
	select {
	case <-r.done:
		return true
	case <-time.After(timeout):
	}
	r.log.Warn("task did not stop within the shutdown timeout; stopping it hard", "timeout", timeout)
	r.hardStop()
	select {
	case <-r.done:
		return true
	case <-time.After(max(timeout/4, time.Second)):
		r.log.Error("task ignored its cancelled context; abandoning it")
		return false
	}
}

func (r *taskRunner) supervise(soft, hard context.Context) {
	defer close(r.done)
	defer r.hardStop()
	policy := r.c.w.opts.Retry
	var firstErr time.Time
	attempt := 0
	for {
		began := time.Now()
		err := r.runOnce(soft, hard)
		if soft.Err() != nil && errors.Is(context.Cause(soft), errStopped) {
			if err != nil && !errors.Is(err, context.Canceled) {
				r.log.Warn("task stopped with an error", "error", r.c.redact(err))
			}
			r.setState(Stopped, "")
			return
		}
		if err == nil {
			err = errors.New("task ended without being stopped")
		}
		metrics.TaskErrors.WithLabelValues(r.c.name, strconv.Itoa(r.id)).Inc()
		if time.Since(began) >= policy.HealthyAfter {
			attempt, firstErr = 0, time.Time{}
		}
		if firstErr.IsZero() {
			firstErr = began
		}
		switch {
		case connect.IsTerminal(err):
			r.fail(err)
			return
		case time.Since(firstErr) >= policy.GiveUpAfter:
			r.fail(fmt.Errorf("giving up after errors for %s without a healthy run (restart the task when the cause is fixed): %w",
				time.Since(firstErr).Round(time.Second), err))
			return
		}
		delay := policy.backoff(attempt)
		attempt++
		r.log.Warn("task failed; retrying", "error", r.c.redact(err), "attempt", attempt, "delay", delay)
		r.setState(Restarting, traceOf(err, attempt))
		t := time.NewTimer(delay)
		select {
		case <-soft.Done():
			t.Stop()
			r.setState(Stopped, "")
			return
		case <-t.C:
		}
	}
}

func (r *taskRunner) fail(err error) {
	r.log.Error("task failed", "error", r.c.redact(err))
	r.setState(Failed, traceOf(err, 0))
}

// traceOf renders an error for the status "trace" field: the full chain of
// wrapped messages, the terminal hint included.
func traceOf(err error, attempt int) string {
	s := err.Error()
	if connect.IsTerminal(err) {
		s = "terminal: " + s
	}
	if attempt > 0 {
		s += fmt.Sprintf(" (retry %d)", attempt)
	}
	return time.Now().UTC().Format(time.RFC3339) + " " + s
}

// runOnce runs the task once. A panic in the plugin (or in the runtime)
// becomes a terminal error with its stack, so a bug fails one task instead
// of the worker process.
func (r *taskRunner) runOnce(soft, hard context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError(v)
		}
	}()
	if r.c.kind() == sourceKind {
		return r.runSource(soft, hard)
	}
	return r.runSink(soft, hard)
}

// panicError turns a recovered panic into a terminal error.
func panicError(v any) error {
	return connect.Terminal(fmt.Errorf("task panicked: %v\n%s", v, debug.Stack()),
		"this is a bug in the connector plugin; report it with this trace, then restart the task")
}

// taskContext builds what the task gets at Start.
func (r *taskRunner) taskContext() *connect.TaskContext {
	return &connect.TaskContext{
		Connector:   r.c.name,
		TaskID:      r.id,
		Config:      r.cfg.Clone(),
		Checkpoints: r.c.w.opts.Checkpoints,
		DataDir:     r.c.dataDir(),
		NamesrvAddr: r.c.w.opts.NamesrvAddr,
		Logger:      r.log,
		SetStatus:   r.setDetail,
	}
}

// setState records the task's state and trace and publishes the gauge. A
// trace of "" keeps the last one for FAILED/RESTARTING and clears it when
// the task is healthy again.
func (r *taskRunner) setState(s State, trace string) {
	r.mu.Lock()
	if s == Running && r.resume != nil {
		s = Paused
	}
	r.state = s
	if trace != "" || s == Running || s == Paused {
		r.trace = trace
	}
	r.mu.Unlock()
	r.publishState(s)
}

func (r *taskRunner) publishState(s State) {
	task := strconv.Itoa(r.id)
	for _, st := range States {
		v := 0.0
		if st == s {
			v = 1
		}
		metrics.TaskState.WithLabelValues(r.c.name, task, string(st)).Set(v)
	}
}

// forgetMetrics removes the task's labelled series once it is gone.
func (r *taskRunner) forgetMetrics() {
	task := strconv.Itoa(r.id)
	for _, st := range States {
		metrics.TaskState.DeleteLabelValues(r.c.name, task, string(st))
	}
	metrics.TaskErrors.DeleteLabelValues(r.c.name, task)
}

func (r *taskRunner) setDetail(d string) {
	r.mu.Lock()
	r.detail = d
	r.mu.Unlock()
}

func (r *taskRunner) setCurrent(t any) {
	r.mu.Lock()
	r.current = t
	r.mu.Unlock()
}

// Current returns the running task instance, or nil.
func (r *taskRunner) currentTask() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

// pause makes the task idle after its current poll; resume lets it go on.
func (r *taskRunner) pause() {
	r.mu.Lock()
	if r.resume == nil {
		r.resume = make(chan struct{})
	}
	if r.state == Running {
		r.state = Paused
	}
	s := r.state
	r.mu.Unlock()
	r.publishState(s)
}

func (r *taskRunner) unpause() {
	r.mu.Lock()
	if r.resume != nil {
		close(r.resume)
		r.resume = nil
	}
	if r.state == Paused {
		r.state = Running
	}
	s := r.state
	r.mu.Unlock()
	r.publishState(s)
}

// waitUnpaused blocks while the task is paused. It returns ctx's error when
// ctx ends first. onPause, when not nil, runs once before blocking.
func (r *taskRunner) waitUnpaused(ctx context.Context, onPause func() error) error {
	r.mu.Lock()
	ch := r.resume
	r.mu.Unlock()
	if ch == nil {
		return nil
	}
	if onPause != nil {
		if err := onPause(); err != nil {
			return err
		}
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TaskStatus is a task's state as the REST API shows it.
type TaskStatus struct {
	ID       int    `json:"id"`
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

func (r *taskRunner) status() TaskStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return TaskStatus{ID: r.id, State: r.state, WorkerID: r.c.w.opts.WorkerID, Trace: r.trace, Detail: r.detail}
}
