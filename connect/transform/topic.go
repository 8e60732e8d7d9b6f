package transform

import (
	"github.com/binlake/binlake/connect"
)

// setTopic records the topic a route.regex transform chose on an event the
// chain created.
func setTopic(ev *connect.ChangeEvent, topic string) { ev.Topic = topic }

// TopicOverride returns the topic a route.regex transform chose for ev, and
// whether there is one. The worker sends ev to that topic instead of the
// per-table topic (and, as with connect.topicname, tags it with
// connect.TableTag).
func TopicOverride(ev *connect.ChangeEvent) (string, bool) {
	if ev == nil || ev.Topic == "" {
		return "", false
	}
	return ev.Topic, true
}

// Topic is TopicOverride as a method, so the worker can find it on its
// Transform with an interface check.
func (c *Chain) Topic(ev *connect.ChangeEvent) (string, bool) { return TopicOverride(ev) }
