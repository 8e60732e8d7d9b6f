//go:build scratch

package mq

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestScratchProduce(t *testing.T) {
	ctx := context.Background()
	topic := fmt.Sprintf("scratch_%d", time.Now().UnixNano())
	if err := CreateTopic(ctx, "127.0.0.1:19876", topic, 8, nil); err != nil { t.Fatal(err) }
	p, err := NewProducer(ProducerConfig{NamesrvAddr: "127.0.0.1:19876", Group: "scratch"})
	if err != nil { t.Fatal(err) }
	if err := p.Start(ctx); err != nil { t.Fatal(err) }
	defer p.Close()
	var acked, failed atomic.Int64
	body := make([]byte, 100)
	// warm up route
	if err := p.Send(ctx, &Message{Topic: topic, Key: "w", Body: []byte{}}, func(err error) { if err != nil { t.Log(err) } }); err != nil { t.Fatal(err) }
	if err := p.Flush(ctx); err != nil { t.Fatal(err) }
	n := 300000
	start := time.Now()
	for i := 0; i < n; i++ {
		m := &Message{Topic: topic, Key: strconv.Itoa(i % 1000), Body: body, Props: map[string]string{"binlake.seq": strconv.Itoa(i)}}
		if err := p.Send(ctx, m, func(err error) { if err != nil { failed.Add(1) } else { acked.Add(1) } }); err != nil { t.Fatal(err) }
	}
	if err := p.Flush(ctx); err != nil { t.Fatal(err) }
	el := time.Since(start)
	t.Logf("%d msgs in %v: %.0f msg/s acked=%d failed=%d", n, el, float64(n)/el.Seconds(), acked.Load(), failed.Load())
	r, _ := NewReader(ReaderConfig{NamesrvAddr: "127.0.0.1:19876", Group: "scratchr"})
	if err := r.Start(ctx); err != nil { t.Fatal(err) }
	qs, err := r.Queues(ctx, topic)
	if err != nil { t.Fatal(err) }
	total := 0
	for _, q := range qs {
		mo, _ := r.MaxOffset(ctx, q)
		off := int64(0)
		for {
			ms, next, err := r.Pull(ctx, q, off, 32)
			if err != nil { t.Fatal(err) }
			if len(ms) == 0 { break }
			total += len(ms)
			if off == 0 { t.Logf("q %d first %+v", q.Queue, *ms[0]) }
			off = next
		}
		t.Logf("queue %d max %d read to %d", q.Queue, mo, off)
	}
	t.Logf("total %d", total)
}
