package mq

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	rmqproducer "github.com/apache/rocketmq-client-go/v2/producer"
)

func TestQueueIndex(t *testing.T) {
	fnvMod := func(key string, n int) int {
		h := fnv.New32a()
		h.Write([]byte(key))
		return int(h.Sum32() % uint32(n))
	}
	tests := []struct {
		key  string
		n    int
		want int
	}{
		{"", 8, 0},
		{"", 1, 0},
		{"anything", 1, 0},
		{"a", 8, fnvMod("a", 8)},
		// FNV-32a("a") = 0xe40c292c = 3826002220; mod 8 = 4, mod 3 = 1
		{"a", 8, 4},
		{"a", 3, 1},
		{"42", 16, fnvMod("42", 16)},
		{"user:1001", 7, fnvMod("user:1001", 7)},
	}
	for _, tt := range tests {
		if got := QueueIndex(tt.key, tt.n); got != tt.want {
			t.Errorf("QueueIndex(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
		}
	}
}

// TestQueueIndexMatchesClientGo checks binlake's queue choice against
// rocketmq-client-go's hash selector, so other clients using that selector
// with a sharding key put a key in the same queue.
func TestQueueIndexMatchesClientGo(t *testing.T) {
	sel := rmqproducer.NewHashQueueSelector()
	for _, n := range []int{1, 2, 3, 8, 16, 31} {
		mqs := make([]*primitive.MessageQueue, n)
		for i := range mqs {
			mqs[i] = &primitive.MessageQueue{Topic: "t", BrokerName: "b", QueueId: i}
		}
		for _, key := range []string{"1", "2", "abc", "id=77|name=x", strings.Repeat("k", 300), "ü"} {
			m := primitive.NewMessage("t", nil)
			m.WithShardingKey(key)
			want := sel.Select(m, mqs, "").QueueId
			if got := QueueIndex(key, n); got != want {
				t.Errorf("QueueIndex(%q, %d) = %d, client-go chose %d", key, n, got, want)
			}
		}
	}
}

// decodeBatch splits a batch body into its elements (test helper shared
// with the producer tests).
func decodeBatch(t testing.TB, body []byte) []*Message {
	t.Helper()
	var out []*Message
	for len(body) > 0 {
		if len(body) < 22 {
			t.Fatalf("batch element truncated: %d bytes", len(body))
		}
		total := int(binary.BigEndian.Uint32(body))
		el := body[:total]
		bl := int(binary.BigEndian.Uint32(el[16:]))
		m := &Message{Body: append([]byte{}, el[20:20+bl]...), Props: map[string]string{}}
		pl := int(binary.BigEndian.Uint16(el[20+bl:]))
		props := el[22+bl : 22+bl+pl]
		if 22+bl+pl != total {
			t.Fatalf("element size %d, fields add up to %d", total, 22+bl+pl)
		}
		for _, kv := range bytes.Split(props, []byte{propertySeparator}) {
			if len(kv) == 0 {
				continue
			}
			k, v, _ := bytes.Cut(kv, []byte{nameValueSeparator})
			switch string(k) {
			case primitive.PropertyKeys:
				m.Key = string(v)
			case primitive.PropertyTags:
				m.Tag = string(v)
			default:
				m.Props[string(k)] = string(v)
			}
		}
		out = append(out, m)
		body = body[total:]
	}
	return out
}

func TestEncodeMatchesClientGo(t *testing.T) {
	tests := []*Message{
		{Topic: "t", Key: "k1", Body: []byte("hello")},
		{Topic: "t", Tag: "db.tbl", Body: []byte{}},
		{Topic: "t", Body: []byte{1, 2, 3}, Props: map[string]string{"binlake.seq": "17"}},
		{Topic: "t"},
	}
	for _, m := range tests {
		pm := primitive.NewMessage(m.Topic, m.Body)
		if m.Key != "" {
			pm.WithKeys([]string{m.Key})
		}
		if m.Tag != "" {
			pm.WithTag(m.Tag)
		}
		for k, v := range m.Props {
			pm.WithProperty(k, v)
		}
		if got, want := m.encode(), pm.Marshal(); !bytes.Equal(got, want) {
			t.Errorf("encode(%+v) =\n%v\nclient-go Marshal =\n%v", m, got, want)
		}
	}
}

func TestEncodeRoundTripManyProps(t *testing.T) {
	m := &Message{Topic: "t", Key: "pk=1", Tag: "db.t", Body: []byte("body"),
		Props: map[string]string{"binlake.seq": "9", "binlake.op": "u", "binlake.table": "db.t", "empty": ""}}
	got := decodeBatch(t, append(m.encode(), m.encode()...))
	if len(got) != 2 {
		t.Fatalf("decoded %d messages, want 2", len(got))
	}
	for _, g := range got {
		if g.Key != m.Key || g.Tag != m.Tag || string(g.Body) != "body" || len(g.Props) != 3 ||
			g.Props["binlake.seq"] != "9" || g.Props["binlake.op"] != "u" || g.Props["binlake.table"] != "db.t" {
			t.Errorf("decoded %+v, want %+v without the empty property", g, m)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		m    *Message
		ok   bool
	}{
		{"plain", &Message{Topic: "binlake_db_t", Key: "1", Body: []byte("x")}, true},
		{"nil", nil, false},
		{"no topic", &Message{Key: "1"}, false},
		{"separator in key", &Message{Topic: "t", Key: "a\x01b"}, false},
		{"separator in prop", &Message{Topic: "t", Props: map[string]string{"a": "b\x02"}}, false},
		{"reserved prop", &Message{Topic: "t", Props: map[string]string{"KEYS": "x"}}, false},
		{"empty prop name", &Message{Topic: "t", Props: map[string]string{"": "x"}}, false},
		{"huge props", &Message{Topic: "t", Props: map[string]string{"p": strings.Repeat("x", 40000)}}, false},
	}
	for _, tt := range tests {
		if err := tt.m.validate(); (err == nil) != tt.ok {
			t.Errorf("%s: validate = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
