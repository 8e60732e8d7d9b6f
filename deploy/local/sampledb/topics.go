package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/binlake/binlake/internal/mq"
)

// runTopics creates the topics the source will write, so that the sink
// (which waits until every topic it consumes exists) starts committing the
// first tables while the source still snapshots the last ones.
func runTopics(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sampledb topics", flag.ContinueOnError)
	namesrv := fs.String("namesrv", "127.0.0.1:9876", "RocketMQ name server")
	topics := fs.String("topics", "", "comma-separated topics")
	queues := fs.Int("queues", mq.DefaultTopicQueues, "queues per topic (the source creates its topics with this many)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, t := range strings.Split(*topics, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if err := mq.CreateTopic(ctx, *namesrv, t, *queues, nil); err != nil {
			return fmt.Errorf("creating topic %s (is the broker up? docker logs binlake-qs-rocketmq): %w", t, err)
		}
	}
	return nil
}
