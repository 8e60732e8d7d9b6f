//go:build scratch

package mq

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

func TestScratchBench(t *testing.T) {
	ctx := context.Background()
	ns := "127.0.0.1:19876"
	topic := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	if err := CreateTopic(ctx, ns, topic, 8, nil); err != nil { t.Fatal(err) }
	p, _ := NewProducer(ProducerConfig{NamesrvAddr: ns, Group: "scratchb"})
	if err := p.Start(ctx); err != nil { t.Fatal(err) }
	defer p.Close()
	body := make([]byte, 100)
	props := map[string]string{"binlake.seq": "1234567", "binlake.table": "db.t", "binlake.op": "c"}
	keys := make([]string, 1000)
	for i := range keys { keys[i] = strconv.Itoa(i) }
	_ = p.Send(ctx, &Message{Topic: topic, Body: body}, nil)
	_ = p.Flush(ctx)
	n := 1000000
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := p.Send(ctx, &Message{Topic: topic, Key: keys[i%len(keys)], Body: body, Props: props}, nil); err != nil { t.Fatal(err) }
	}
	if err := p.Flush(ctx); err != nil { t.Fatal(err) }
	el := time.Since(start)
	t.Logf("%d in %v: %.0f msg/s", n, el, float64(n)/el.Seconds())
}
