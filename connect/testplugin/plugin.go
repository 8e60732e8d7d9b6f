// Package testplugin is a test-only pair of connectors ("test-source" and
// "test-sink"), an in-memory broker and a JSON converter that exercise the
// worker runtime and the REST API without MySQL, RocketMQ or a lake. Tests
// import it for its init, which registers both plugins in plugin.Default.
package testplugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/plugin"
	"github.com/binlake/binlake/connect/spec"
)

// Plugin names.
const (
	SourceName = "test-source"
	SinkName   = "test-sink"
)

// Config keys of the test plugins.
const (
	// KeyEvents is how many events the source emits in total (sequences 1..n).
	KeyEvents = "test.events"
	// KeyBatch is the source's poll batch size.
	KeyBatch = "test.batch"
	// KeyFail injects a failure (see the Fail* values).
	KeyFail = "test.fail"
	// KeyFailTimes is how many attempts fail before the next succeeds.
	KeyFailTimes = "test.fail.times"
	// KeyPassword is a secret that must never show in responses.
	KeyPassword = "test.password"
	// KeyTable is the "db.table" the source emits for.
	KeyTable = "test.table"
)

// ForbiddenTopic is a topic the test sink's cross-field validation rejects.
const ForbiddenTopic = "forbidden"

// Failure injection points for KeyFail.
const (
	FailNone             = "none"
	FailStartRetryable   = "start-retryable"
	FailStartTerminal    = "start-terminal"
	FailPollRetryable    = "poll-retryable"
	FailTaskConfigs      = "taskconfigs-terminal"
	FailPutTerminal      = "put-terminal"
	FailStartSinkRetries = "sink-start-retryable"
	FailPollPanic        = "poll-panic"
	FailAckPanic         = "ack-panic"
)

var commonKeys = []spec.Key{
	{Name: KeyFail, Type: spec.String, Default: FailNone, Enum: []string{FailNone, FailStartRetryable, FailStartTerminal,
		FailPollRetryable, FailTaskConfigs, FailPutTerminal, FailStartSinkRetries, FailPollPanic, FailAckPanic}, Doc: "Injects a failure."},
	{Name: KeyFailTimes, Type: spec.Int, Default: "1000000", Validate: spec.AtLeast(0), Doc: "Attempts that fail before one succeeds."},
	{Name: KeyPassword, Type: spec.Password, Doc: "A secret."},
}

func init() {
	plugin.Register(plugin.Plugin{
		Name: SourceName, Kind: plugin.Source, Doc: "Emits numbered events for tests.",
		Spec: &spec.Spec{Keys: append([]spec.Key{
			{Name: KeyEvents, Type: spec.Long, Default: "10", Validate: spec.AtLeast(0), Doc: "Events to emit in total."},
			{Name: KeyBatch, Type: spec.Int, Default: "4", Validate: spec.Range(1, 10000), Doc: "Events per poll."},
			{Name: KeyTable, Type: spec.String, Default: "db.t", Doc: "The db.table of the events."},
		}, commonKeys...)},
		New: func() connect.Connector { return &SourceConnector{} },
	})
	plugin.Register(plugin.Plugin{
		Name: SinkName, Kind: plugin.Sink, Doc: "Collects events for tests.",
		Spec: &spec.Spec{Keys: commonKeys},
		New:  func() connect.Connector { return &SinkConnector{} },
		Validate: func(cfg connect.Config) []spec.FieldError {
			if slices.Contains(spec.GetList(cfg, spec.TopicNames), ForbiddenTopic) {
				return []spec.FieldError{{Field: spec.TopicNames, Message: "topic " + ForbiddenTopic + " is not allowed"}}
			}
			return nil
		},
	})
}

// hub records what the test connectors did, per connector name.
var hub = struct {
	sync.Mutex
	attempts  map[string]int
	sunk      map[string][]*connect.ChangeEvent
	offsets   map[string]map[connect.QueueID]int64
	snapshots map[string][][]string
	acked     map[string]uint64
}{
	attempts: map[string]int{}, sunk: map[string][]*connect.ChangeEvent{},
	offsets: map[string]map[connect.QueueID]int64{}, snapshots: map[string][][]string{}, acked: map[string]uint64{},
}

// Sunk returns the events the test sink of a connector committed (Flush),
// in commit order.
func Sunk(connector string) []*connect.ChangeEvent {
	hub.Lock()
	defer hub.Unlock()
	return append([]*connect.ChangeEvent(nil), hub.sunk[connector]...)
}

// Snapshots returns the table lists of the snapshots requested from a
// connector's source tasks.
func Snapshots(connector string) [][]string {
	hub.Lock()
	defer hub.Unlock()
	return append([][]string(nil), hub.snapshots[connector]...)
}

// Acked returns the highest contiguous sequence acknowledged to a test
// source connector's tasks.
func Acked(connector string) uint64 {
	hub.Lock()
	defer hub.Unlock()
	return hub.acked[connector]
}

// Attempts returns how many times failure injection was consulted for a
// connector (each task start or poll at an injection point).
func Attempts(connector string) int {
	hub.Lock()
	defer hub.Unlock()
	return hub.attempts[connector]
}

// errInjected is the injected error.
var errInjected = errors.New("injected failure")

// inject returns an error when cfg injects failure at point and the
// connector has not yet failed test.fail.times times.
func inject(cfg connect.Config, point string) error {
	if spec.GetString(cfg, KeyFail) != point {
		return nil
	}
	name := cfg[spec.Name]
	hub.Lock()
	defer hub.Unlock()
	hub.attempts[name]++
	if hub.attempts[name] > spec.GetInt(cfg, KeyFailTimes) {
		return nil
	}
	// The error quotes the secret, as a careless driver error might: the
	// worker must redact it from statuses and logs.
	err := fmt.Errorf("%s (password %q): %w", point, cfg[KeyPassword], errInjected)
	switch point {
	case FailStartTerminal, FailTaskConfigs, FailPutTerminal:
		return connect.Terminal(err, "remove test.fail")
	}
	return err
}

func ctxErr(ctx context.Context) error { return ctx.Err() }
