package mq

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/internal/mq/remoting"
)

// TopicConfig is a topic's configuration on one broker.
type TopicConfig struct {
	BrokerName     string            `json:"-"`
	TopicName      string            `json:"topicName"`
	ReadQueueNums  int               `json:"readQueueNums"`
	WriteQueueNums int               `json:"writeQueueNums"`
	Perm           int               `json:"perm"`
	Order          bool              `json:"order"`
	Attributes     map[string]string `json:"attributes"`
}

// topicConfigBody is GET_TOPIC_CONFIG's response body
// (TopicConfigAndQueueMapping: the TopicConfig fields at the top level).
type topicConfigBody = TopicConfig

// masters lists the master broker of every broker set the name server
// knows, sorted by broker name.
func masters(ctx context.Context, c *remoting.Client, namesrv string) ([]brokerData, error) {
	ci, err := fetchClusterInfo(ctx, c, namesrv)
	if err != nil {
		return nil, err
	}
	var out []brokerData
	for _, b := range ci.BrokerAddrTable {
		if b.masterAddr() != "" {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the name server knows no master broker")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].BrokerName < out[j].BrokerName })
	return out, nil
}

// getTopicConfig reads topic's configuration from the broker at addr;
// found=false when the broker has no such topic.
func getTopicConfig(ctx context.Context, c *remoting.Client, addr, topic string) (*TopicConfig, bool, error) {
	resp, err := c.Invoke(ctx, addr, remoting.NewRequest(remoting.CodeGetTopicConfig, map[string]string{"topic": topic}, nil))
	if err != nil {
		return nil, false, fmt.Errorf("reading config of topic %s from %s: %w", topic, addr, err)
	}
	switch resp.Code {
	case remoting.RespSuccess:
	case remoting.RespTopicNotExist:
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("reading config of topic %s from %s: broker answered code %d: %s", topic, addr, resp.Code, resp.Remark)
	}
	var tc topicConfigBody
	if err := decodeFastJSON(resp.Body, &tc); err != nil {
		return nil, false, fmt.Errorf("decoding config of topic %s from %s: %w", topic, addr, err)
	}
	if tc.TopicName == "" {
		return nil, false, nil
	}
	return &tc, true, nil
}

// TopicConfigs returns topic's configuration on every master broker that has
// it (read back from the brokers, not from the name server).
func TopicConfigs(ctx context.Context, namesrvAddr, topic string) ([]TopicConfig, error) {
	c := remoting.NewClient()
	defer func() { _ = c.Close() }()
	ms, err := masters(ctx, c, namesrvAddr)
	if err != nil {
		return nil, err
	}
	var out []TopicConfig
	for _, m := range ms {
		tc, found, err := getTopicConfig(ctx, c, m.masterAddr(), topic)
		if err != nil {
			return nil, err
		}
		if found {
			tc.BrokerName = m.BrokerName
			out = append(out, *tc)
		}
	}
	return out, nil
}

// encodeAttributes renders attributes as the broker expects them
// ("+k1=v1,+k2=v2"), sorted for determinism.
func encodeAttributes(attrs map[string]string) string {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, "+"+k+"="+attrs[k])
	}
	return strings.Join(parts, ",")
}

// validateAttributes rejects attributes the broker's parser would split
// wrongly.
func validateAttributes(attrs map[string]string) error {
	for k, v := range attrs {
		if k == "" || strings.ContainsAny(k, "+-=,") || strings.ContainsAny(v, "=,") || v == "" {
			return fmt.Errorf("invalid topic attribute %q=%q: keys and values must be non-empty and free of '+', '-', '=', ','", k, v)
		}
	}
	return nil
}

// CreateTopic creates topic, or grows its queue counts, on every master
// broker the name server knows, with queues read and write queues and the
// given attributes (for example {"cleanup.policy": "COMPACTION"}), then waits
// until the name server routes it. It is idempotent: attributes the topic
// already has with the same value are not sent again (the broker refuses to
// "update" an unchangeable attribute such as cleanup.policy); an existing
// attribute with a different value is an error, and so is asking for fewer
// queues than the topic has. Growing a topic moves keys to other queues:
// per-key order holds only among messages sent after the change.
func CreateTopic(ctx context.Context, namesrvAddr, topic string, queues int, attrs map[string]string) error {
	if err := validateTopic(topic); err != nil {
		return err
	}
	if queues <= 0 {
		return fmt.Errorf("creating topic %s: queue count %d must be positive", topic, queues)
	}
	if err := validateAttributes(attrs); err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	c := remoting.NewClient()
	defer func() { _ = c.Close() }()
	ms, err := masters(ctx, c, namesrvAddr)
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	for _, m := range ms {
		if err := createOnBroker(ctx, c, m.masterAddr(), topic, queues, attrs); err != nil {
			return err
		}
	}
	return waitForRoute(ctx, c, namesrvAddr, topic, queues*len(ms))
}

func createOnBroker(ctx context.Context, c *remoting.Client, addr, topic string, queues int, attrs map[string]string) error {
	current, found, err := getTopicConfig(ctx, c, addr, topic)
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	send := attrs
	if found {
		send = map[string]string{}
		for k, v := range attrs {
			cur, has := current.Attributes[k]
			switch {
			case !has:
				send[k] = v
			case cur != v:
				return fmt.Errorf("creating topic %s on %s: it exists with attribute %s=%s, want %s; "+
					"delete the topic or choose another name", topic, addr, k, cur, v)
			}
		}
		if queues < current.WriteQueueNums || queues < current.ReadQueueNums {
			return fmt.Errorf("creating topic %s on %s: it has %d write and %d read queues, more than the %d asked for; "+
				"binlake never shrinks a topic (messages in the dropped queues would become unreadable)",
				topic, addr, current.WriteQueueNums, current.ReadQueueNums, queues)
		}
		if len(send) == 0 && current.ReadQueueNums == queues && current.WriteQueueNums == queues {
			return nil
		}
	}
	ext := map[string]string{
		"topic":           topic,
		"defaultTopic":    "TBW102",
		"readQueueNums":   strconv.Itoa(queues),
		"writeQueueNums":  strconv.Itoa(queues),
		"perm":            strconv.Itoa(permRead | permWrite),
		"topicFilterType": "SINGLE_TAG",
		"topicSysFlag":    "0",
		"order":           "false",
	}
	if len(send) > 0 {
		ext["attributes"] = encodeAttributes(send)
	}
	resp, err := c.Invoke(ctx, addr, remoting.NewRequest(remoting.CodeUpdateAndCreateTopic, ext, nil))
	if err != nil {
		return fmt.Errorf("creating topic %s on %s: %w", topic, addr, err)
	}
	if resp.Code != remoting.RespSuccess {
		return fmt.Errorf("creating topic %s on %s: broker answered code %d: %s", topic, addr, resp.Code, resp.Remark)
	}
	return nil
}

// waitForRoute polls the name server until topic has at least want
// writable queues (brokers register a new topic asynchronously).
func waitForRoute(ctx context.Context, c *remoting.Client, namesrv, topic string, want int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := fetchRoute(ctx, c, namesrv, topic)
		if err == nil && len(r.writeQueues()) >= want {
			return nil
		}
		if err != nil && !errors.Is(err, ErrTopicNotFound) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for the route of topic %s: the name server does not route %d queues after 30s", topic, want)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the route of topic %s: %w", topic, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// validateTopic applies RocketMQ's topic name rules.
func validateTopic(topic string) error {
	if topic == "" {
		return errors.New("topic name is empty")
	}
	if len(topic) > 127 {
		return fmt.Errorf("topic name %q is longer than 127 characters", topic)
	}
	for _, r := range topic {
		if !topicRune(r) {
			return fmt.Errorf("topic name %q contains %q; allowed are letters, digits, '_', '-', '%%' and '|'", topic, r)
		}
	}
	return nil
}

// topicRune reports whether r may appear in a topic name.
func topicRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	default:
		return r == '_' || r == '-' || r == '%' || r == '|'
	}
}
