package remoting

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds a request whose context has no deadline.
const DefaultTimeout = 10 * time.Second

// ErrClientClosed is returned by a client used after Close.
var ErrClientClosed = errors.New("remoting client is closed")

// Client sends requests to RocketMQ servers over one multiplexed TCP
// connection per address. Safe for concurrent use.
type Client struct {
	opaque atomic.Int32

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool
}

// NewClient returns a client; connections are opened on first use.
func NewClient() *Client {
	return &Client{conns: make(map[string]*conn)}
}

// Invoke sends req to addr and waits for its response, until ctx is done
// (or DefaultTimeout when ctx has no deadline).
func (c *Client) Invoke(ctx context.Context, addr string, req *Command) (*Command, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	cn, err := c.conn(ctx, addr)
	if err != nil {
		return nil, err
	}
	req.Opaque = c.opaque.Add(1)
	req.Flag &^= flagResponse
	frame, err := Encode(req)
	if err != nil {
		return nil, err
	}
	ch := make(chan *Command, 1)
	if err := cn.register(req.Opaque, ch); err != nil {
		return nil, err
	}
	defer cn.unregister(req.Opaque)
	if err := cn.write(ctx, frame); err != nil {
		return nil, fmt.Errorf("sending request code %d to %s: %w", req.Code, addr, err)
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("waiting for response to code %d from %s: %w", req.Code, addr, cn.failure())
		}
		return resp, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for response to code %d from %s: %w", req.Code, addr, ctx.Err())
	}
}

// Close closes every connection; pending requests fail. Idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	conns := c.conns
	c.conns = map[string]*conn{}
	c.closed = true
	c.mu.Unlock()
	for _, cn := range conns {
		cn.close(ErrClientClosed)
	}
	return nil
}

func (c *Client) conn(ctx context.Context, addr string) (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClientClosed
	}
	if cn, ok := c.conns[addr]; ok && !cn.isDead() {
		return cn, nil
	}
	var d net.Dialer
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	nc, err := d.DialContext(dialCtx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	cn := &conn{nc: nc, w: bufio.NewWriterSize(nc, 64<<10), pending: make(map[int32]chan *Command)}
	c.conns[addr] = cn
	go cn.readLoop()
	return cn, nil
}

// conn is one TCP connection with its pending requests.
type conn struct {
	nc net.Conn

	wmu sync.Mutex
	w   *bufio.Writer

	mu      sync.Mutex
	pending map[int32]chan *Command
	err     error // set once the connection is dead
}

func (cn *conn) isDead() bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err != nil
}

func (cn *conn) failure() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.err == nil {
		return errors.New("connection closed")
	}
	return cn.err
}

func (cn *conn) register(opaque int32, ch chan *Command) error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.err != nil {
		return cn.err
	}
	cn.pending[opaque] = ch
	return nil
}

func (cn *conn) unregister(opaque int32) {
	cn.mu.Lock()
	delete(cn.pending, opaque)
	cn.mu.Unlock()
}

func (cn *conn) write(ctx context.Context, frame []byte) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		_ = cn.nc.SetWriteDeadline(dl)
	}
	if _, err := cn.w.Write(frame); err != nil {
		cn.close(err)
		return err
	}
	if err := cn.w.Flush(); err != nil {
		cn.close(err)
		return err
	}
	return nil
}

func (cn *conn) readLoop() {
	r := bufio.NewReaderSize(cn.nc, 64<<10)
	for {
		frame, err := ReadFrame(r)
		if err != nil {
			cn.close(fmt.Errorf("reading from %s: %w", cn.nc.RemoteAddr(), err))
			return
		}
		cmd, err := Decode(frame)
		if err != nil {
			cn.close(err)
			return
		}
		if !cmd.IsResponse() {
			// Server-initiated requests (consumer notifications, transaction
			// checks) are not used by binlake; they are ignored.
			continue
		}
		cn.mu.Lock()
		ch, ok := cn.pending[cmd.Opaque]
		delete(cn.pending, cmd.Opaque)
		cn.mu.Unlock()
		if ok {
			ch <- cmd // buffered, one response per request
		}
	}
}

// close marks the connection dead and fails its pending requests.
func (cn *conn) close(cause error) {
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		return
	}
	cn.err = cause
	pending := cn.pending
	cn.pending = map[int32]chan *Command{}
	cn.mu.Unlock()
	_ = cn.nc.Close()
	for _, ch := range pending {
		close(ch)
	}
}
