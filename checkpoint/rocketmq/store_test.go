package rocketmq

import (
	"context"
	"testing"

	"github.com/binlake/binlake/internal/mq"
)

func TestApplyLastValueWinsAndTombstones(t *testing.T) {
	body := []byte("v2")
	log := []*mq.ReadMessage{
		{Key: "a", Body: []byte("v1")},
		{Key: "b", Body: []byte("b1")},
		{Key: "a", Body: body},
		{Key: "b", Body: []byte{}, Props: map[string]string{TombstoneProp: "true"}},
		{Key: "", Body: []byte("unkeyed: not ours")},
		{Key: "c", Body: []byte{}},                                                   // an empty value is a value
		{Key: "d", Body: []byte("x"), Props: map[string]string{TombstoneProp: "no"}}, // only "true" deletes
	}
	r := newReplay()
	for i, m := range log {
		m.BornMs = int64(1000 + i)
		r.apply(m)
	}
	// a message from another queue written before a's last value (the
	// topic's queue count changed in between) does not win
	r.apply(&mq.ReadMessage{Key: "a", Body: []byte("stale"), BornMs: 1001})
	data := r.data
	want := map[string]string{"a": "v2", "c": "", "d": "x"}
	if len(data) != len(want) {
		t.Fatalf("state = %q, want %q", data, want)
	}
	for k, v := range want {
		got, ok := data[k]
		if !ok || string(got) != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	body[0] = 'X' // the store keeps its own copy
	if string(data["a"]) != "v2" {
		t.Errorf("stored value aliases the message body: %q", data["a"])
	}
}

func TestOpenValidatesConfig(t *testing.T) {
	for _, cfg := range []Config{{}, {NamesrvAddr: "127.0.0.1:9876"}, {Topic: "t"}} {
		if _, err := Open(context.Background(), cfg); err == nil {
			t.Errorf("Open(%+v) accepted an incomplete config", cfg)
		}
	}
}
