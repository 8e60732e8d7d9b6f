package spec

// Names of the common keys (ARCHITECTURE.md 3.8) that every connector has.
const (
	// Name is the connector's name; the REST route sets it.
	Name = "name"
	// ConnectorClass names the plugin (e.g. "mysql-source", "lake-sink").
	ConnectorClass = "connector.class"
	// MaxTasks caps the number of tasks.
	MaxTasks = "max.tasks"
	// KeyConverter names the message key format.
	KeyConverter = "key.converter"
	// ValueConverter names the message body converter ("avro" or "json").
	ValueConverter = "value.converter"
	// Transforms lists transform aliases, applied in order.
	Transforms = "transforms"
	// ErrorsTolerance is "none" (fail on a bad record) or "all" (skip it,
	// to the dead-letter topic when one is set).
	ErrorsTolerance = "errors.tolerance"
	// DLQTopic names the dead-letter topic.
	DLQTopic = "errors.deadletterqueue.topic.name"
)

// Names of the keys the runtime reads from source connectors.
const (
	// TopicPrefix is the per-table topic prefix: <prefix>_<db>_<table>.
	TopicPrefix = "topic.prefix"
	// TopicNameKey sends every table to one topic (tag <db>.<table>).
	TopicNameKey = "connect.topicname"
)

// Names of the keys the runtime reads from sink connectors and sink task
// configs.
const (
	// TopicNames lists the topics a sink consumes; in a task config (from
	// Connector.TaskConfigs) the topics assigned to that task.
	TopicNames = "connect.topicnames"
	// CommitIntervalMs is how often the runtime calls SinkTask.Flush.
	CommitIntervalMs = "commit.interval.ms"
)

// Converter and tolerance values.
const (
	ConverterAvro   = "avro"
	ConverterJSON   = "json"
	ConverterString = "string"
	ToleranceNone   = "none"
	ToleranceAll    = "all"
)

// Common declares the keys every connector has. The worker merges it (and
// Source or Sink) in front of a plugin's own spec; a plugin may redeclare a
// common key to change its default or doc.
var Common = &Spec{
	Keys: []Key{
		{Name: Name, Type: String, Group: "Common", Doc: "The connector's name. Set from the REST route; when given it must match."},
		{Name: ConnectorClass, Type: String, Required: true, Group: "Common", Doc: "The plugin that implements the connector, e.g. mysql-source or lake-sink."},
		{Name: MaxTasks, Type: Int, Default: "1", Validate: Range(1, 1024), Group: "Common", Doc: "The maximum number of tasks the connector may run."},
		{Name: KeyConverter, Type: String, Default: ConverterString, Enum: []string{ConverterString}, Group: "Common", Doc: "The message key format: the primary key values as stable text."},
		{Name: ValueConverter, Type: String, Default: ConverterAvro, Enum: []string{ConverterAvro, ConverterJSON}, Group: "Common", Doc: "The message body format: avro (Confluent wire format with a schema registry) or json (Debezium-style JSON envelope). Options for the converter go under value.converter.*."},
		{Name: Transforms, Type: List, Group: "Common", Doc: "Aliases of the transforms applied to each event, in order; each is configured under transforms.<alias>.*."},
		{Name: ErrorsTolerance, Type: String, Default: ToleranceNone, Enum: []string{ToleranceNone, ToleranceAll}, Group: "Common", Doc: "none fails the task on a record it cannot convert or write; all skips such records (to the dead-letter topic when one is set)."},
		{Name: DLQTopic, Type: String, Validate: TopicName, Group: "Common", Doc: "The dead-letter topic for records skipped under errors.tolerance=all."},
	},
	Prefixes: []string{"transforms.", "key.converter.", "value.converter."},
}

// Source declares the keys the runtime reads from every source connector.
var Source = &Spec{
	Keys: []Key{
		{Name: TopicPrefix, Type: String, Validate: TopicName, Group: "Topics", Doc: "Prefix of the per-table topics <prefix>_<db>_<table>; defaults to the connector's name."},
		{Name: TopicNameKey, Type: String, Validate: TopicName, Group: "Topics", Doc: "Send every table to this one topic instead of a topic per table; the message tag is then <db>.<table>."},
	},
}

// Sink declares the keys the runtime reads from every sink connector.
var Sink = &Spec{
	Keys: []Key{
		{Name: TopicNames, Type: List, Required: true, Validate: TopicList, Group: "Topics", Doc: "The topics to consume, comma-separated. All queues of one topic are consumed by one task."},
		{Name: CommitIntervalMs, Type: Duration, Default: "10000", Group: "Commit", Doc: "How often buffered records are committed, in milliseconds."},
	},
}
