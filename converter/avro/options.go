package avro

import (
	"fmt"
	"strings"
)

// Config keys of the Avro converter, as they appear in a connector config.
const (
	// ConfigRegistryURL is the schema registry base URL; empty means the
	// worker's embedded registry.
	ConfigRegistryURL = "schema.registry.url"
	// ConfigNamePrefix is the namespace prefix of the Avro record names
	// ("<prefix>.<db>.<table>.Envelope"); default "binlake".
	ConfigNamePrefix = "schema.name.prefix"
	// ConfigSubjectStrategy selects how subjects are named: "topic"
	// (TopicNameStrategy, the default) or "topic-record"
	// (TopicRecordNameStrategy, for a topic shared by several tables).
	ConfigSubjectStrategy = "subject.name.strategy"
	// ConfigEvolutionPolicy is what the converter does with a schema change
	// that the subject's compatibility level rejects; see Policy.
	ConfigEvolutionPolicy = "schema.evolution.policy"
	// ConnectorKeyEvolutionPolicy is ConfigEvolutionPolicy as a connector
	// config key: converter options go under "value.converter.".
	ConnectorKeyEvolutionPolicy = "value.converter." + ConfigEvolutionPolicy
)

// Policy is the value of schema.evolution.policy: what happens when a new
// table version's schema is incompatible with the versions already
// registered under its subject (per the subject's compatibility level).
type Policy string

const (
	// PolicyFail (the default) checks every new schema against the subject's
	// registered versions with binlake's rules (Avro resolution, plus:
	// decimal scale changes, precision narrowing and timestamp unit or zone
	// changes are incompatible) before registering it, whatever registry is
	// in use, and also honours the registry's own verdict. An incompatible
	// change fails the task with a terminal error that names the change, the
	// table and the subject.
	PolicyFail Policy = "fail"
	// PolicyRegistry leaves the decision to the registry alone: the schema is
	// registered directly and only the registry's 409 fails the task. Use it
	// with a registry whose rules you configured on purpose.
	PolicyRegistry Policy = "registry"
	// PolicyAllow registers incompatible changes anyway: when the registry
	// rejects one, the converter sets the subject's compatibility to NONE for
	// that one registration and restores the subject's previous setting
	// afterwards. Consumers must cope with the break (the lake sink fails the
	// table when Iceberg cannot evolve).
	PolicyAllow Policy = "allow"
)

// ParsePolicy validates a policy name ("" is PolicyFail).
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return PolicyFail, nil
	case PolicyFail, PolicyRegistry, PolicyAllow:
		return p, nil
	}
	return "", fmt.Errorf("%s: unknown policy %q (want fail, registry or allow)", ConfigEvolutionPolicy, s)
}

// SubjectStrategy names subjects.
type SubjectStrategy string

const (
	// TopicNameStrategy names subjects "<topic>-value" and "<topic>-key" (Confluent's
	// default; one table per topic).
	TopicNameStrategy SubjectStrategy = "topic"
	// TopicRecordNameStrategy names subjects "<topic>-<record full name>", for a topic
	// shared by several tables (connect.topicname).
	TopicRecordNameStrategy SubjectStrategy = "topic-record"
)

// ParseSubjectStrategy validates a strategy name ("" is TopicNameStrategy);
// Confluent's class names are accepted too.
func ParseSubjectStrategy(s string) (SubjectStrategy, error) {
	switch strings.TrimSpace(s) {
	case "", "topic", "TopicNameStrategy", "io.confluent.kafka.serializers.subject.TopicNameStrategy":
		return TopicNameStrategy, nil
	case "topic-record", "TopicRecordNameStrategy", "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy":
		return TopicRecordNameStrategy, nil
	}
	return "", fmt.Errorf("%s: unknown strategy %q (want topic or topic-record)", ConfigSubjectStrategy, s)
}

// Options configure a Converter.
type Options struct {
	// NamePrefix is the Avro namespace prefix; "" means "binlake".
	NamePrefix string
	// Subjects is the subject naming strategy; "" means TopicNameStrategy.
	Subjects SubjectStrategy
	// Policy is the schema evolution policy; "" means PolicyFail.
	Policy Policy
	// Goavro makes the converter encode and decode envelopes through
	// goavro's generic codecs instead of its direct binary path (same bytes,
	// several times slower); for comparisons and as a fallback switch.
	// Writer schemas binlake did not generate are always read with goavro.
	Goavro bool
}
