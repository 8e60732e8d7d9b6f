//go:build integration

package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/binlake/binlake/checkpoint"
	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/internal/mq"
)

func TestMain(m *testing.M) {
	code := m.Run()
	containers.TerminateAll()
	os.Exit(code)
}

func openStore(t *testing.T, ctx context.Context, cfg Config) *Store {
	t.Helper()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestCompactionTopicReadBackFromOffsetZero is the compaction-topic smoke
// test: the store creates its compaction topic with our own CreateTopic, the
// attribute is read back from the broker, keyed values are written, and a
// reopened store reads the last values back from offset 0.
func TestCompactionTopicReadBackFromOffsetZero(t *testing.T) {
	srv := containers.RocketMQServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("binlake_ckpt_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	cfg := Config{NamesrvAddr: srv.NamesrvAddr, Topic: topic, Queues: 4}

	s := openStore(t, ctx, cfg)
	cfgs, err := mq.TopicConfigs(ctx, srv.NamesrvAddr, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) == 0 {
		t.Fatal("the store did not create its topic")
	}
	for _, c := range cfgs {
		if c.Attributes["cleanup.policy"] != "COMPACTION" {
			t.Fatalf("broker %s: topic attributes %v, want cleanup.policy=COMPACTION", c.BrokerName, c.Attributes)
		}
	}

	// several versions per key; the last one must win
	const keys, versions = 12, 5
	for v := 0; v < versions; v++ {
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("mysql-source/%d", k)
			if err := s.Put(ctx, key, []byte(fmt.Sprintf("gtid-%d-v%d", k, v))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Put(ctx, "registry/subject-a", []byte("schema")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "mysql-source/3"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "never-written"); err != nil {
		t.Fatal(err)
	}
	check := func(st *Store) {
		t.Helper()
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("mysql-source/%d", k)
			v, found, err := st.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if k == 3 {
				if found {
					t.Errorf("%s: deleted key read back as %q", key, v)
				}
				continue
			}
			if want := fmt.Sprintf("gtid-%d-v%d", k, versions-1); !found || string(v) != want {
				t.Errorf("%s = %q (found %v), want %q", key, v, found, want)
			}
		}
		all, err := st.List(ctx, "mysql-source/")
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != keys-1 {
			t.Errorf("List(mysql-source/) has %d keys, want %d", len(all), keys-1)
		}
		reg, err := st.List(ctx, "registry/")
		if err != nil {
			t.Fatal(err)
		}
		if len(reg) != 1 || string(reg["registry/subject-a"]) != "schema" {
			t.Errorf("List(registry/) = %q", reg)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Put(ctx, "x", []byte("y")); !errors.Is(err, checkpoint.ErrClosed) {
		t.Errorf("Put after Close = %v, want ErrClosed", err)
	}

	s2 := openStore(t, ctx, cfg) // reads every queue from offset 0
	check(s2)

	// the topic as written: every message keyed, a key in its hash queue,
	// the delete a tombstone with an empty body
	r, err := mq.NewReader(mq.ReaderConfig{NamesrvAddr: srv.NamesrvAddr, Group: "binlake_ckpt_check"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	qs, err := r.Queues(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	total, tombstones := 0, 0
	for _, q := range qs {
		msgs := pullAll(t, ctx, r, q)
		for _, m := range msgs {
			if m.Key == "" {
				t.Fatalf("unkeyed message at %d of queue %d", m.Offset, q.Queue)
			}
			if want := mq.QueueIndex(m.Key, len(qs)); want != q.Queue {
				t.Errorf("key %s in queue %d, want %d", m.Key, q.Queue, want)
			}
			if m.Props[TombstoneProp] == "true" {
				tombstones++
				if len(m.Body) != 0 {
					t.Errorf("tombstone of %s has a %d-byte body", m.Key, len(m.Body))
				}
			}
		}
		total += len(msgs)
	}
	if want := keys*versions + 1 + 2; total != want || tombstones != 2 {
		t.Errorf("topic holds %d messages (%d tombstones), want %d (2)", total, tombstones, want)
	}

	// writes after a reopen survive the next reopen
	if err := s2.Put(ctx, "mysql-source/3", []byte("back")); err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := openStore(t, ctx, cfg)
	if v, found, err := s3.Get(ctx, "mysql-source/3"); err != nil || !found || string(v) != "back" {
		t.Errorf("after the third open mysql-source/3 = %q, %v, %v; want back", v, found, err)
	}
}

func pullAll(t *testing.T, ctx context.Context, r *mq.Reader, q connect.QueueID) []*mq.ReadMessage {
	t.Helper()
	var out []*mq.ReadMessage
	var off int64
	for {
		msgs, next, err := r.Pull(ctx, q, off, 64)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return out
		}
		out = append(out, msgs...)
		off = next
	}
}

func TestConcurrentPutsKeepLastValuePerKey(t *testing.T) {
	srv := containers.RocketMQServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("binlake_ckpt_conc_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	cfg := Config{NamesrvAddr: srv.NamesrvAddr, Topic: topic}
	s := openStore(t, ctx, cfg)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if err := s.Put(ctx, "task/"+strconv.Itoa(w), []byte(strconv.Itoa(i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_ = s.Close()
	s2 := openStore(t, ctx, cfg)
	all, err := s2.List(ctx, "task/")
	if err != nil {
		t.Fatal(err)
	}
	for w := 0; w < 4; w++ {
		if got := string(all["task/"+strconv.Itoa(w)]); got != "19" {
			t.Errorf("task/%d = %q after reopen, want 19", w, got)
		}
	}
}
