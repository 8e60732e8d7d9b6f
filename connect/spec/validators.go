package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// Range returns a Validate func accepting integers in [lo, hi].
func Range(lo, hi int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("value %q is not an integer", v)
		}
		if n < lo || n > hi {
			return fmt.Errorf("value %d is outside [%d, %d]", n, lo, hi)
		}
		return nil
	}
}

// AtLeast returns a Validate func accepting integers >= lo.
func AtLeast(lo int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("value %q is not an integer", v)
		}
		if n < lo {
			return fmt.Errorf("value %d is below the minimum %d", n, lo)
		}
		return nil
	}
}

// MaxTopicLen is RocketMQ's limit on topic name length.
const MaxTopicLen = 127

// TopicName validates a RocketMQ topic name: 1 to 127 characters from
// [A-Za-z0-9_-]. An empty value is accepted (the key is unset).
func TopicName(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > MaxTopicLen {
		return fmt.Errorf("topic name is %d characters long; the limit is %d", len(v), MaxTopicLen)
	}
	for _, c := range v {
		if !topicChar(c) {
			return fmt.Errorf("topic name %q has character %q; use only A-Z, a-z, 0-9, _ and -", v, c)
		}
	}
	return nil
}

// TopicList validates a comma-separated list of topic names.
func TopicList(v string) error {
	for _, t := range splitList(v) {
		if err := TopicName(t); err != nil {
			return err
		}
	}
	return nil
}

// topicChar reports whether c may appear in a RocketMQ topic name.
func topicChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
