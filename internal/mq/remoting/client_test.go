package remoting

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeServer answers requests on 127.0.0.1: it collects n requests and
// answers them in reverse order, echoing ext field "v" as the remark.
func fakeServer(t *testing.T, n int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		ln.Close() // one connection only: a redial is refused
		if err != nil {
			return
		}
		defer nc.Close()
		var reqs []*Command
		for len(reqs) < n {
			raw, err := ReadFrame(nc)
			if err != nil {
				return
			}
			c, err := Decode(raw)
			if err != nil {
				return
			}
			reqs = append(reqs, c)
		}
		for i := len(reqs) - 1; i >= 0; i-- {
			resp := &Command{Code: RespSuccess, Opaque: reqs[i].Opaque, Flag: flagResponse, Remark: reqs[i].ExtFields["v"]}
			frame, _ := Encode(resp)
			if _, err := nc.Write(frame); err != nil {
				return
			}
		}
		// then hang up: later requests must fail, not hang
	}()
	return ln.Addr().String()
}

func TestInvokeMatchesResponsesByOpaque(t *testing.T) {
	const n = 8
	addr := fakeServer(t, n)
	c := NewClient()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := strconv.Itoa(i)
			resp, err := c.Invoke(ctx, addr, NewRequest(99, map[string]string{"v": v}, nil))
			if err != nil {
				errs <- err
				return
			}
			if resp.Remark != v {
				errs <- errors.New("request " + v + " got the response of " + resp.Remark)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The server hung up after answering: the next request fails fast.
	start := time.Now()
	if _, err := c.Invoke(ctx, addr, NewRequest(99, nil, nil)); err == nil {
		t.Error("request to a closed server succeeded")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("request to a closed server waited for its timeout")
	}
}

func TestInvokeHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			defer nc.Close()
			time.Sleep(3 * time.Second) // never answers
		}
	}()
	c := NewClient()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = c.Invoke(ctx, ln.Addr().String(), NewRequest(1, nil, nil))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke = %v, want DeadlineExceeded", err)
	}
	_ = c.Close()
	if _, err := c.Invoke(context.Background(), ln.Addr().String(), NewRequest(1, nil, nil)); !errors.Is(err, ErrClientClosed) {
		t.Errorf("Invoke after Close = %v, want ErrClientClosed", err)
	}
}
