package mq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/internal/mq/remoting"
)

// ReadMessage is one message read from a queue.
type ReadMessage struct {
	Queue  connect.QueueID
	Offset int64
	Key    string
	Tag    string
	Body   []byte
	Props  map[string]string // user properties; RocketMQ's own are removed
	BornMs int64
}

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	// NamesrvAddr lists name servers, "host:port" separated by ';'.
	NamesrvAddr string
	// Group is the consumer group whose offsets CommittedOffset and
	// CommitOffset read and write; pulls never move them.
	Group string
}

// OffsetMovedError reports a pull from an offset the queue no longer (or
// not yet) holds; Next is where the broker says reading can continue.
type OffsetMovedError struct {
	Queue     connect.QueueID
	Requested int64
	Next      int64
}

func (e *OffsetMovedError) Error() string {
	return fmt.Sprintf("offset %d of %s queue %d is out of range; the broker suggests %d", e.Requested, e.Queue.Topic, e.Queue.Queue, e.Next)
}

// ErrReaderClosed is returned by a Reader used after Close.
var ErrReaderClosed = errors.New("reader is closed")

// Reader reads queues from explicit offsets and keeps consumer-group
// offsets on the broker, with no rebalancing and no background pulling: the
// caller decides which queue to read from where. Safe for concurrent use.
type Reader struct {
	cfg ReaderConfig

	mu      sync.Mutex
	client  *remoting.Client
	closed  bool
	brokers map[string]string // broker name -> master address
}

// NewReader validates cfg; it does no I/O.
func NewReader(cfg ReaderConfig) (*Reader, error) {
	if len(namesrvAddrs(cfg.NamesrvAddr)) == 0 {
		return nil, errors.New("reader config: a name server address is required")
	}
	if cfg.Group == "" {
		return nil, errors.New("reader config: a consumer group is required")
	}
	return &Reader{cfg: cfg, brokers: make(map[string]string)}, nil
}

// Start checks that the name server answers.
func (r *Reader) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrReaderClosed
	}
	if r.client == nil {
		r.client = remoting.NewClient()
	}
	c := r.client
	r.mu.Unlock()
	ci, err := fetchClusterInfo(ctx, c, r.cfg.NamesrvAddr)
	if err != nil {
		return fmt.Errorf("starting reader: %w", err)
	}
	r.mu.Lock()
	for _, b := range ci.BrokerAddrTable {
		if a := b.masterAddr(); a != "" {
			r.brokers[b.BrokerName] = a
		}
	}
	r.mu.Unlock()
	return nil
}

func (r *Reader) remoting() (*remoting.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrReaderClosed
	}
	if r.client == nil {
		return nil, errors.New("reader is not started")
	}
	return r.client, nil
}

// Queues lists the readable queues of topic, ordered by broker name and
// queue id.
func (r *Reader) Queues(ctx context.Context, topic string) ([]connect.QueueID, error) {
	c, err := r.remoting()
	if err != nil {
		return nil, err
	}
	rt, err := fetchRoute(ctx, c, r.cfg.NamesrvAddr, topic)
	if err != nil {
		return nil, err
	}
	r.learn(rt)
	rq := rt.readQueues()
	out := make([]connect.QueueID, len(rq))
	for i, q := range rq {
		out[i] = connect.QueueID{Topic: topic, BrokerName: q.BrokerName, Queue: q.QueueID}
	}
	return out, nil
}

func (r *Reader) learn(rt *topicRoute) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range rt.BrokerDatas {
		if a := b.masterAddr(); a != "" {
			r.brokers[b.BrokerName] = a
		}
	}
}

// forget drops a broker's cached address after a failed request, so the
// next request asks the name server again (the broker may have moved).
func (r *Reader) forget(brokerName string) {
	r.mu.Lock()
	delete(r.brokers, brokerName)
	r.mu.Unlock()
}

// brokerAddr returns the master address serving q.
func (r *Reader) brokerAddr(ctx context.Context, q connect.QueueID) (*remoting.Client, string, error) {
	c, err := r.remoting()
	if err != nil {
		return nil, "", err
	}
	r.mu.Lock()
	addr, ok := r.brokers[q.BrokerName]
	r.mu.Unlock()
	if ok {
		return c, addr, nil
	}
	rt, err := fetchRoute(ctx, c, r.cfg.NamesrvAddr, q.Topic)
	if err != nil {
		return nil, "", err
	}
	r.learn(rt)
	r.mu.Lock()
	addr, ok = r.brokers[q.BrokerName]
	r.mu.Unlock()
	if !ok {
		return nil, "", fmt.Errorf("finding broker %q of topic %s: the name server does not route it", q.BrokerName, q.Topic)
	}
	return c, addr, nil
}

// pullFlagSubscription tells the broker the subscription comes with the
// request (no registered consumer needed).
const pullFlagSubscription = 1 << 2

// Pull reads up to max messages of q starting at offset and returns them
// with the offset to read next. The broker caps one pull (32 messages by
// default: maxTransferCountOnMessageInMemory). An empty slice with a next
// offset equal to offset means the reader has caught up; an empty slice
// with a larger next offset means the broker skipped a gap (compacted or
// filtered messages): pull again from there. An offset outside the queue
// gives an *OffsetMovedError.
func (r *Reader) Pull(ctx context.Context, q connect.QueueID, offset int64, max int) ([]*ReadMessage, int64, error) {
	if offset < 0 {
		return nil, offset, fmt.Errorf("pulling %s queue %d: negative offset %d", q.Topic, q.Queue, offset)
	}
	if max <= 0 {
		max = 32
	}
	c, addr, err := r.brokerAddr(ctx, q)
	if err != nil {
		return nil, offset, err
	}
	ext := map[string]string{
		"consumerGroup":        r.cfg.Group,
		"topic":                q.Topic,
		"queueId":              strconv.Itoa(q.Queue),
		"queueOffset":          strconv.FormatInt(offset, 10),
		"maxMsgNums":           strconv.Itoa(max),
		"sysFlag":              strconv.Itoa(pullFlagSubscription),
		"commitOffset":         "0",
		"suspendTimeoutMillis": "0",
		"subscription":         "*",
		"subVersion":           "0",
		"expressionType":       "TAG",
		"bname":                q.BrokerName,
	}
	resp, err := c.Invoke(ctx, addr, remoting.NewRequest(remoting.CodePullMessage, ext, nil))
	if err != nil {
		r.forget(q.BrokerName)
		return nil, offset, fmt.Errorf("pulling %s queue %d at %d: %w", q.Topic, q.Queue, offset, err)
	}
	next := offset
	if s, ok := resp.ExtFields["nextBeginOffset"]; ok {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			next = n
		}
	}
	switch resp.Code {
	case remoting.RespSuccess:
	case remoting.RespPullNotFound, remoting.RespPullRetryNow:
		if next < offset {
			next = offset
		}
		return nil, next, nil
	case remoting.RespPullOffsetMoved:
		return nil, offset, &OffsetMovedError{Queue: q, Requested: offset, Next: next}
	default:
		return nil, offset, fmt.Errorf("pulling %s queue %d at %d: broker answered code %d: %s", q.Topic, q.Queue, offset, resp.Code, resp.Remark)
	}
	decoded := primitive.DecodeMessage(resp.Body)
	out := make([]*ReadMessage, 0, len(decoded))
	for _, m := range decoded {
		if m.QueueOffset < offset {
			continue
		}
		props := m.GetProperties()
		rm := &ReadMessage{
			Queue:  q,
			Offset: m.QueueOffset,
			Key:    props[primitive.PropertyKeys],
			Tag:    props[primitive.PropertyTags],
			Body:   m.Body,
			BornMs: m.BornTimestamp,
		}
		for k := range props {
			if systemProps[k] {
				delete(props, k)
			}
		}
		rm.Props = props
		out = append(out, rm)
	}
	if len(out) > 0 && next <= out[len(out)-1].Offset {
		next = out[len(out)-1].Offset + 1
	}
	return out, next, nil
}

// systemProps are the properties RocketMQ sets itself; Pull drops them.
var systemProps = map[string]bool{
	primitive.PropertyKeys: true, primitive.PropertyTags: true, primitive.PropertyWaitStoreMsgOk: true,
	primitive.PropertyDelayTimeLevel: true, primitive.PropertyRetryTopic: true, primitive.PropertyRealTopic: true,
	primitive.PropertyRealQueueId: true, primitive.PropertyTransactionPrepared: true, primitive.PropertyProducerGroup: true,
	primitive.PropertyMinOffset: true, primitive.PropertyMaxOffset: true, primitive.PropertyBuyerId: true,
	primitive.PropertyOriginMessageId: true, primitive.PropertyTransferFlag: true, primitive.PropertyCorrectionFlag: true,
	primitive.PropertyMQ2Flag: true, primitive.PropertyReconsumeTime: true, primitive.PropertyMsgRegion: true,
	primitive.PropertyTraceSwitch: true, primitive.PropertyUniqueClientMessageIdKeyIndex: true,
	primitive.PropertyMaxReconsumeTimes: true, primitive.PropertyConsumeStartTime: true,
	primitive.PropertyShardingKey: true, primitive.PropertyTransactionID: true, primitive.PropertyCluster: true,
	primitive.PropertyTimerDeliverMS: true, "INNER_NUM": true, "INNER_BASE": true, "__STARTDELIVERTIME": true,
}

// MaxOffset returns the offset one past the last message of q.
func (r *Reader) MaxOffset(ctx context.Context, q connect.QueueID) (int64, error) {
	return r.queryOffset(ctx, q, remoting.CodeGetMaxOffset, "max")
}

// MinOffset returns the lowest offset q still holds.
func (r *Reader) MinOffset(ctx context.Context, q connect.QueueID) (int64, error) {
	return r.queryOffset(ctx, q, remoting.CodeGetMinOffset, "min")
}

func (r *Reader) queryOffset(ctx context.Context, q connect.QueueID, code int16, what string) (int64, error) {
	c, addr, err := r.brokerAddr(ctx, q)
	if err != nil {
		return 0, err
	}
	ext := map[string]string{"topic": q.Topic, "queueId": strconv.Itoa(q.Queue), "bname": q.BrokerName}
	resp, err := c.Invoke(ctx, addr, remoting.NewRequest(code, ext, nil))
	if err != nil {
		r.forget(q.BrokerName)
		return 0, fmt.Errorf("reading %s offset of %s queue %d: %w", what, q.Topic, q.Queue, err)
	}
	if resp.Code != remoting.RespSuccess {
		return 0, fmt.Errorf("reading %s offset of %s queue %d: broker answered code %d: %s", what, q.Topic, q.Queue, resp.Code, resp.Remark)
	}
	return resp.ExtInt64("offset")
}

// CommittedOffset returns the group's committed offset of q, -1 when none.
func (r *Reader) CommittedOffset(ctx context.Context, q connect.QueueID) (int64, error) {
	c, addr, err := r.brokerAddr(ctx, q)
	if err != nil {
		return 0, err
	}
	ext := map[string]string{
		"consumerGroup": r.cfg.Group, "topic": q.Topic, "queueId": strconv.Itoa(q.Queue),
		"setZeroIfNotFound": "false", "bname": q.BrokerName,
	}
	resp, err := c.Invoke(ctx, addr, remoting.NewRequest(remoting.CodeQueryConsumerOffset, ext, nil))
	if err != nil {
		return 0, fmt.Errorf("reading committed offset of %s queue %d: %w", q.Topic, q.Queue, err)
	}
	switch resp.Code {
	case remoting.RespSuccess:
		return resp.ExtInt64("offset")
	case remoting.RespQueryNotFound:
		return -1, nil
	default:
		return 0, fmt.Errorf("reading committed offset of %s queue %d: broker answered code %d: %s", q.Topic, q.Queue, resp.Code, resp.Remark)
	}
}

// CommitOffset stores offset as the group's committed offset of q.
func (r *Reader) CommitOffset(ctx context.Context, q connect.QueueID, offset int64) error {
	if offset < 0 {
		return fmt.Errorf("committing offset of %s queue %d: negative offset %d", q.Topic, q.Queue, offset)
	}
	c, addr, err := r.brokerAddr(ctx, q)
	if err != nil {
		return err
	}
	ext := map[string]string{
		"consumerGroup": r.cfg.Group, "topic": q.Topic, "queueId": strconv.Itoa(q.Queue),
		"commitOffset": strconv.FormatInt(offset, 10), "bname": q.BrokerName,
	}
	resp, err := c.Invoke(ctx, addr, remoting.NewRequest(remoting.CodeUpdateConsumerOffset, ext, nil))
	if err != nil {
		return fmt.Errorf("committing offset %d of %s queue %d: %w", offset, q.Topic, q.Queue, err)
	}
	if resp.Code != remoting.RespSuccess {
		return fmt.Errorf("committing offset %d of %s queue %d: broker answered code %d: %s", offset, q.Topic, q.Queue, resp.Code, resp.Remark)
	}
	return nil
}

// Close releases the connections; idempotent.
func (r *Reader) Close() error {
	r.mu.Lock()
	c := r.client
	r.client = nil
	r.closed = true
	r.mu.Unlock()
	if c != nil {
		return c.Close()
	}
	return nil
}
