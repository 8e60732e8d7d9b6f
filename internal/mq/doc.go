// Package mq is binlake's RocketMQ plumbing: an ordered, batching,
// backpressured producer (over rocketmq-client-go), a reader that pulls any
// queue from an explicit offset, and topic administration (CreateTopic with
// attributes such as cleanup.policy=COMPACTION), the last two over a small
// remoting client of its own (package remoting).
package mq
