package transform

import (
	"runtime"
	"sync"
	"weak"

	"github.com/binlake/binlake/connect"
)

// connect.ChangeEvent has no field for a topic override yet, so the topic a
// route.regex transform chose is kept in a side table keyed by a weak pointer
// to the output event (which the chain allocated itself): an entry lives
// exactly as long as its event and is removed by a cleanup when the event is
// collected, so the table never outgrows the events in flight. When the
// contract gains `Topic string`, setTopic becomes `ev.Topic = topic`.
var topics sync.Map // weak.Pointer[connect.ChangeEvent] -> string

// setTopic records the topic override of an event the chain created.
func setTopic(ev *connect.ChangeEvent, topic string) {
	wp := weak.Make(ev)
	if _, loaded := topics.Swap(wp, topic); !loaded {
		runtime.AddCleanup(ev, func(wp weak.Pointer[connect.ChangeEvent]) { topics.Delete(wp) }, wp)
	}
}

// TopicOverride returns the topic a route.regex transform chose for ev, an
// event returned by Chain.Apply, and whether there is one. The worker sends
// ev to that topic instead of the per-table topic (and, as with
// connect.topicname, tags it with connect.TableTag).
func TopicOverride(ev *connect.ChangeEvent) (string, bool) {
	if ev == nil {
		return "", false
	}
	v, ok := topics.Load(weak.Make(ev))
	if !ok {
		return "", false
	}
	return v.(string), true
}
