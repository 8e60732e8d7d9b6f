package mq

import (
	"reflect"
	"testing"
)

func TestFixFastJSON(t *testing.T) {
	body := []byte(`{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-b","cluster":"c"},` +
		`{"brokerAddrs":{"0":"127.0.0.2:10911"},"brokerName":"broker-a","cluster":"c"}],` +
		`"queueDatas":[{"brokerName":"broker-b","perm":6,"readQueueNums":2,"writeQueueNums":3,"topicSysFlag":0},` +
		`{"brokerName":"broker-a","perm":4,"readQueueNums":2,"writeQueueNums":2,"topicSysFlag":0}]}`)
	var r topicRoute
	if err := decodeFastJSON(body, &r); err != nil {
		t.Fatal(err)
	}
	if got := r.BrokerDatas[0].BrokerAddrs; !reflect.DeepEqual(got, map[int64]string{0: "127.0.0.1:10911", 1: "127.0.0.1:10921"}) {
		t.Errorf("brokerAddrs = %v", got)
	}
	// broker-a is read-only (perm 4): not writable.
	wantW := []routeQueue{
		{"broker-b", 0, "127.0.0.1:10911"}, {"broker-b", 1, "127.0.0.1:10911"}, {"broker-b", 2, "127.0.0.1:10911"},
	}
	if got := r.writeQueues(); !reflect.DeepEqual(got, wantW) {
		t.Errorf("writeQueues = %v, want %v", got, wantW)
	}
	wantR := []routeQueue{
		{"broker-a", 0, "127.0.0.2:10911"}, {"broker-a", 1, "127.0.0.2:10911"},
		{"broker-b", 0, "127.0.0.1:10911"}, {"broker-b", 1, "127.0.0.1:10911"},
	}
	if got := r.readQueues(); !reflect.DeepEqual(got, wantR) {
		t.Errorf("readQueues = %v, want %v", got, wantR)
	}
}

func TestNamesrvAddrs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"127.0.0.1:9876", []string{"127.0.0.1:9876"}},
		{"a:1;b:2", []string{"a:1", "b:2"}},
		{" a:1 , b:2;", []string{"a:1", "b:2"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := namesrvAddrs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("namesrvAddrs(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestAttributes(t *testing.T) {
	if got := encodeAttributes(map[string]string{"cleanup.policy": "COMPACTION", "message.type": "FIFO"}); got != "+cleanup.policy=COMPACTION,+message.type=FIFO" {
		t.Errorf("encodeAttributes = %q", got)
	}
	for _, bad := range []map[string]string{{"a=b": "c"}, {"a": "b,c"}, {"": "x"}, {"+a": "b"}, {"a": ""}} {
		if err := validateAttributes(bad); err == nil {
			t.Errorf("validateAttributes(%v) accepted", bad)
		}
	}
	if err := validateAttributes(map[string]string{"cleanup.policy": "COMPACTION"}); err != nil {
		t.Error(err)
	}
}

func FuzzDecodeRoute(f *testing.F) {
	f.Add([]byte(`{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"b","cluster":"c"}],"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":4,"writeQueueNums":4}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r topicRoute
		if err := decodeFastJSON(b, &r); err != nil {
			return
		}
		for _, q := range append(r.writeQueues(), r.readQueues()...) {
			if q.Addr == "" || q.QueueID < 0 {
				t.Fatalf("route queue without a broker address: %+v", q)
			}
		}
	})
}
