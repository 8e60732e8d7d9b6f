package mq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/binlake/binlake/internal/mq/remoting"
)

// ErrTopicNotFound is returned when the name server has no route for a topic.
var ErrTopicNotFound = errors.New("topic not found on the name server")

// brokerData is one broker set (a master, id 0, and its replicas).
type brokerData struct {
	Cluster     string           `json:"cluster"`
	BrokerName  string           `json:"brokerName"`
	BrokerAddrs map[int64]string `json:"brokerAddrs"`
}

// masterAddr returns the address of the master (id 0), or "".
func (b brokerData) masterAddr() string { return b.BrokerAddrs[0] }

// queueData is a topic's queue layout on one broker.
type queueData struct {
	BrokerName     string `json:"brokerName"`
	ReadQueueNums  int    `json:"readQueueNums"`
	WriteQueueNums int    `json:"writeQueueNums"`
	Perm           int    `json:"perm"`
	TopicSysFlag   int    `json:"topicSysFlag"`
}

// topicRoute is the name server's route of one topic.
type topicRoute struct {
	BrokerDatas []brokerData `json:"brokerDatas"`
	QueueDatas  []queueData  `json:"queueDatas"`
}

// clusterInfo is the name server's view of clusters and brokers.
type clusterInfo struct {
	BrokerAddrTable  map[string]brokerData `json:"brokerAddrTable"`
	ClusterAddrTable map[string][]string   `json:"clusterAddrTable"`
}

// Permission bits of a queue (RocketMQ PermName).
const (
	permRead  = 1 << 2
	permWrite = 1 << 1
)

// bareNumericKey matches the unquoted integer map keys that fastjson writes
// (for example {0:"127.0.0.1:10911"}), which encoding/json rejects.
var bareNumericKey = regexp.MustCompile(`([{,])\s*(-?\d+)\s*:`)

// fixFastJSON quotes bare integer object keys so encoding/json can decode
// RocketMQ's JSON bodies. Values in these bodies (addresses, names) never
// contain a comma or brace directly followed by digits and a colon.
func fixFastJSON(b []byte) []byte {
	return bareNumericKey.ReplaceAll(b, []byte(`$1"$2":`))
}

// decodeFastJSON decodes a fastjson body into v.
func decodeFastJSON(b []byte, v any) error {
	return json.Unmarshal(fixFastJSON(b), v)
}

// namesrvAddrs splits a name server list ("a:9876;b:9876", commas allowed).
func namesrvAddrs(s string) []string {
	var out []string
	for _, a := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// invokeNamesrv sends req to the first name server that answers.
func invokeNamesrv(ctx context.Context, c *remoting.Client, namesrv string, req func() *remoting.Command) (*remoting.Command, error) {
	addrs := namesrvAddrs(namesrv)
	if len(addrs) == 0 {
		return nil, errors.New("no name server address configured")
	}
	var lastErr error
	for _, a := range addrs {
		resp, err := c.Invoke(ctx, a, req())
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// fetchRoute asks the name server for the route of topic.
func fetchRoute(ctx context.Context, c *remoting.Client, namesrv, topic string) (*topicRoute, error) {
	resp, err := invokeNamesrv(ctx, c, namesrv, func() *remoting.Command {
		return remoting.NewRequest(remoting.CodeGetRouteInfoByTopic, map[string]string{"topic": topic}, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("querying route of topic %s: %w", topic, err)
	}
	switch resp.Code {
	case remoting.RespSuccess:
	case remoting.RespTopicNotExist:
		return nil, fmt.Errorf("querying route of topic %s: %w", topic, ErrTopicNotFound)
	default:
		return nil, fmt.Errorf("querying route of topic %s: name server answered code %d: %s", topic, resp.Code, resp.Remark)
	}
	var r topicRoute
	if err := decodeFastJSON(resp.Body, &r); err != nil {
		return nil, fmt.Errorf("decoding route of topic %s: %w", topic, err)
	}
	return &r, nil
}

// fetchClusterInfo asks the name server for every broker it knows.
func fetchClusterInfo(ctx context.Context, c *remoting.Client, namesrv string) (*clusterInfo, error) {
	resp, err := invokeNamesrv(ctx, c, namesrv, func() *remoting.Command {
		return remoting.NewRequest(remoting.CodeGetBrokerClusterInfo, nil, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("querying cluster info: %w", err)
	}
	if resp.Code != remoting.RespSuccess {
		return nil, fmt.Errorf("querying cluster info: name server answered code %d: %s", resp.Code, resp.Remark)
	}
	var ci clusterInfo
	if err := decodeFastJSON(resp.Body, &ci); err != nil {
		return nil, fmt.Errorf("decoding cluster info: %w", err)
	}
	return &ci, nil
}

// maxQueuesPerBroker bounds a topic's queue count on one broker (RocketMQ
// brokers allow far fewer by default).
const maxQueuesPerBroker = 1 << 16

// routeQueue is one queue of a topic with its broker's master address.
type routeQueue struct {
	BrokerName string
	QueueID    int
	Addr       string
}

// writeQueues lists the writable queues of r in a stable order (broker name,
// then queue id), the order hashing indexes into.
func (r *topicRoute) writeQueues() []routeQueue {
	return r.queues(func(q queueData) (int, bool) { return q.WriteQueueNums, q.Perm&permWrite != 0 })
}

// readQueues lists the readable queues of r in the same stable order.
func (r *topicRoute) readQueues() []routeQueue {
	return r.queues(func(q queueData) (int, bool) { return q.ReadQueueNums, q.Perm&permRead != 0 })
}

func (r *topicRoute) queues(pick func(queueData) (int, bool)) []routeQueue {
	addrs := make(map[string]string, len(r.BrokerDatas))
	for _, b := range r.BrokerDatas {
		addrs[b.BrokerName] = b.masterAddr()
	}
	qds := append([]queueData(nil), r.QueueDatas...)
	sort.Slice(qds, func(i, j int) bool { return qds[i].BrokerName < qds[j].BrokerName })
	var out []routeQueue
	for _, q := range qds {
		n, ok := pick(q)
		n = min(n, maxQueuesPerBroker) // bound what a malformed route can allocate
		addr := addrs[q.BrokerName]
		if !ok || addr == "" {
			continue
		}
		for i := 0; i < n; i++ {
			out = append(out, routeQueue{BrokerName: q.BrokerName, QueueID: i, Addr: addr})
		}
	}
	return out
}
