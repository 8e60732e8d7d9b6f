package containers

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
	"github.com/testcontainers/testcontainers-go"
)

func init() {
	// rocketmq-client-go logs every connection at info level; keep test output readable.
	if os.Getenv("ROCKETMQ_GO_LOG_LEVEL") == "" {
		rlog.SetLogLevel("error")
	}
}

// RocketMQ is a running Apache RocketMQ name server and broker (autoCreateTopicEnable=true,
// name server orderMessageEnable=true, cluster DefaultCluster, broker broker-a).
type RocketMQ struct {
	NamesrvAddr string // "127.0.0.1:port"
	BrokerAddr  string // "127.0.0.1:port"
}

// RocketMQServer returns the shared RocketMQ, starting it on first use.
func RocketMQServer(t testing.TB) *RocketMQ {
	t.Helper()
	return shared(t, "rocketmq", func(ctx context.Context) (any, error) { return startRocketMQ(ctx) }).(*RocketMQ)
}

func startRocketMQ(ctx context.Context) (*RocketMQ, error) {
	img, err := imageFor("rocketmq")
	if err != nil {
		return nil, err
	}
	nsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	// The broker binds listenPort-2 (fast channel) and listenPort+1 (HA) as well.
	brokerPort, err := freePortGroup(2, 1)
	if err != nil {
		return nil, err
	}
	r := &RocketMQ{
		NamesrvAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(nsPort)),
		BrokerAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(brokerPort)),
	}
	var probeOn *testcontainers.DockerContainer
	if isLocalImage(img) {
		probeOn, err = startContainer(ctx, spec{role: "rocketmq", image: img, env: map[string]string{
			"NAMESRV_PORT": strconv.Itoa(nsPort),
			"BROKER_PORT":  strconv.Itoa(brokerPort),
		}})
	} else {
		probeOn, err = startOfficialRocketMQ(ctx, img, nsPort, brokerPort)
	}
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, probeOn, "RocketMQ broker "+r.BrokerAddr, r.probe); err != nil {
		return nil, err
	}
	return r, nil
}

// startOfficialRocketMQ runs apache/rocketmq as two containers (mqnamesrv and mqbroker) and
// returns the broker's.
func startOfficialRocketMQ(ctx context.Context, img string, nsPort, brokerPort int) (*testcontainers.DockerContainer, error) {
	env := map[string]string{"JAVA_OPT_EXT": "-Xms256m -Xmx256m -Dtls.server.mode=disabled"}
	nsConf := fmt.Sprintf("listenPort=%d\norderMessageEnable=true\n", nsPort)
	if _, err := startContainer(ctx, spec{
		role: "rocketmq-namesrv", image: img, env: env,
		cmd: []string{"sh", "mqnamesrv", "-c", "/tmp/binlake-namesrv.conf"},
		files: []testcontainers.ContainerFile{{
			Reader: strings.NewReader(nsConf), ContainerFilePath: "/tmp/binlake-namesrv.conf", FileMode: 0o644,
		}},
	}); err != nil {
		return nil, err
	}
	brokerConf := brokerConfig(nsPort, brokerPort, "/tmp/binlake-store")
	return startContainer(ctx, spec{
		role: "rocketmq-broker", image: img, env: map[string]string{"JAVA_OPT_EXT": "-Xms512m -Xmx512m -Dtls.server.mode=disabled"},
		cmd: []string{"sh", "mqbroker", "-c", "/tmp/binlake-broker.conf"},
		files: []testcontainers.ContainerFile{{
			Reader: strings.NewReader(brokerConf), ContainerFilePath: "/tmp/binlake-broker.conf", FileMode: 0o644,
		}},
	})
}

// brokerConfig is the broker.conf the official image gets (the local image writes the same).
func brokerConfig(nsPort, brokerPort int, store string) string {
	return strings.Join([]string{
		"brokerClusterName=DefaultCluster",
		"brokerName=broker-a",
		"brokerId=0",
		"namesrvAddr=127.0.0.1:" + strconv.Itoa(nsPort),
		"brokerIP1=127.0.0.1",
		"listenPort=" + strconv.Itoa(brokerPort),
		"storePathRootDir=" + store,
		"storePathCommitLog=" + store + "/commitlog",
		"autoCreateTopicEnable=true",
		"autoCreateSubscriptionGroup=true",
		"brokerRole=ASYNC_MASTER",
		"flushDiskType=ASYNC_FLUSH",
		"mappedFileSizeCommitLog=134217728",
		"diskMaxUsedSpaceRatio=95",
	}, "\n") + "\n"
}

var probeSeq atomic.Int64

// readyTopic is the topic readiness probes write to (created by the broker on first send).
const readyTopic = "binlake_ready"

// probe succeeds when a message is sent and pulled back by offset.
func (r *RocketMQ) probe(ctx context.Context) error {
	// Cheap check first: the Go client logs every failed connection attempt.
	for _, addr := range []string{r.NamesrvAddr, r.BrokerAddr} {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("connecting to %s: %w", addr, err)
		}
		_ = conn.Close()
	}
	id := fmt.Sprintf("binlake-ready-%d-%d", os.Getpid(), probeSeq.Add(1))
	p, err := producer.NewDefaultProducer(
		producer.WithNameServer([]string{r.NamesrvAddr}),
		producer.WithGroupName("binlake_ready_producer"),
		producer.WithInstanceName(id),
		producer.WithRetry(0),
		producer.WithSendMsgTimeout(5*time.Second),
	)
	if err != nil {
		return fmt.Errorf("creating producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return fmt.Errorf("starting producer: %w", err)
	}
	defer func() { _ = p.Shutdown() }()
	body := []byte(id)
	res, err := p.SendSync(ctx, primitive.NewMessage(readyTopic, body))
	if err != nil {
		return fmt.Errorf("sending: %w", err)
	}
	if res.Status != primitive.SendOK || res.MessageQueue == nil {
		return fmt.Errorf("sending: status %d", res.Status)
	}
	c, err := consumer.NewPullConsumer(
		consumer.WithNameServer([]string{r.NamesrvAddr}),
		consumer.WithGroupName("binlake_ready_consumer"),
		consumer.WithInstance(id),
	)
	if err != nil {
		return fmt.Errorf("creating pull consumer: %w", err)
	}
	if err := c.Subscribe(readyTopic, consumer.MessageSelector{}); err != nil {
		return fmt.Errorf("subscribing: %w", err)
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("starting pull consumer: %w", err)
	}
	defer func() { _ = c.Shutdown() }()
	pr, err := c.PullFrom(ctx, res.MessageQueue, res.QueueOffset, 1)
	if err != nil {
		return fmt.Errorf("pulling: %w", err)
	}
	msgs := pr.GetMessageExts()
	if len(msgs) == 0 || !bytes.Equal(msgs[0].Body, body) {
		return fmt.Errorf("pulling offset %d of %s: got %d messages (status %v)", res.QueueOffset, res.MessageQueue, len(msgs), pr.Status)
	}
	return nil
}
