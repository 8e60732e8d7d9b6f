package mq

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// Message is one message to produce. Its queue is FNV-32a(Key) modulo the
// topic's queue count, so every message of one key lands in one queue, in
// Send order; an empty Key goes to queue 0. A Broadcast message goes to
// every queue of the topic instead, in each queue's Send order: a marker
// that every queue's consumer sees at the same point of the source's order
// (a table TRUNCATE).
type Message struct {
	Topic     string
	Key       string
	Tag       string
	Body      []byte
	Props     map[string]string
	Broadcast bool
}

// Reserved property names RocketMQ uses itself.
var reservedProps = map[string]bool{
	primitive.PropertyKeys: true, primitive.PropertyTags: true, primitive.PropertyUniqueClientMessageIdKeyIndex: true,
	primitive.PropertyDelayTimeLevel: true, primitive.PropertyTransactionPrepared: true, primitive.PropertyShardingKey: true,
	primitive.PropertyWaitStoreMsgOk: true, primitive.PropertyTimerDeliverMS: true,
}

// maxPropertiesLen is the broker's limit on the encoded properties (a short).
const maxPropertiesLen = 32767

// QueueIndex returns the queue index of key among n queues: FNV-32a of the
// key modulo n, 0 for an empty key. It matches rocketmq-client-go's hash
// queue selector on 64-bit platforms.
func QueueIndex(key string, n int) int {
	if key == "" || n <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// validate checks what the broker would reject, so a bad message fails at
// Send instead of poisoning a batch. The topic name is checked when the
// producer first routes the topic.
func (m *Message) validate() error {
	if m == nil {
		return errors.New("message is nil")
	}
	if m.Topic == "" {
		return errors.New("message topic is empty")
	}
	if hasSeparator(m.Key) {
		return fmt.Errorf("key %q contains a control character RocketMQ uses as a separator", m.Key)
	}
	if hasSeparator(m.Tag) {
		return fmt.Errorf("tag %q contains a control character RocketMQ uses as a separator", m.Tag)
	}
	size := len(m.Key) + len(m.Tag) + 16
	for k, v := range m.Props {
		if k == "" {
			return errors.New("message property name is empty")
		}
		if reservedProps[k] {
			return fmt.Errorf("message property %q is reserved by RocketMQ", k)
		}
		if hasSeparator(k) || hasSeparator(v) {
			return fmt.Errorf("message property %q=%q contains a control character RocketMQ uses as a separator", k, v)
		}
		size += len(k) + len(v) + 2
	}
	if size > maxPropertiesLen {
		return fmt.Errorf("message properties take %d bytes, more than RocketMQ's %d", size, maxPropertiesLen)
	}
	return nil
}

// hasSeparator reports whether s contains RocketMQ's property separators.
func hasSeparator(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == nameValueSeparator || s[i] == propertySeparator {
			return true
		}
	}
	return false
}

// encode appends m in RocketMQ's batch element layout (TOTALSIZE,
// MAGICCODE, BODYCRC, FLAG, BODYSIZE, BODY, PROPERTYSIZE, PROPERTIES, all
// big-endian; properties as name\x01value\x02), as
// rocketmq-client-go's Message.Marshal does, without the intermediate
// primitive.Message and its map.
func (m *Message) encode() []byte {
	propLen := 0
	addLen := func(k, v string) {
		if v != "" {
			propLen += len(k) + len(v) + 2
		}
	}
	addLen(primitive.PropertyKeys, m.Key)
	addLen(primitive.PropertyTags, m.Tag)
	for k, v := range m.Props {
		addLen(k, v)
	}
	total := 4 + 4 + 4 + 4 + 4 + len(m.Body) + 2 + propLen
	b := make([]byte, total)
	binary.BigEndian.PutUint32(b[0:], uint32(total))
	// MAGICCODE, BODYCRC and FLAG stay 0, as the Java and Go clients send them.
	binary.BigEndian.PutUint32(b[16:], uint32(len(m.Body)))
	pos := 20 + copy(b[20:], m.Body)
	binary.BigEndian.PutUint16(b[pos:], uint16(propLen))
	pos += 2
	put := func(k, v string) {
		if v == "" { // the broker drops empty values anyway
			return
		}
		pos += copy(b[pos:], k)
		b[pos] = nameValueSeparator
		pos++
		pos += copy(b[pos:], v)
		b[pos] = propertySeparator
		pos++
	}
	put(primitive.PropertyKeys, m.Key)
	put(primitive.PropertyTags, m.Tag)
	for k, v := range m.Props {
		put(k, v)
	}
	return b
}

// Separators of RocketMQ's encoded properties.
const (
	nameValueSeparator = 1
	propertySeparator  = 2
)
