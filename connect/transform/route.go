package transform

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

// Keys of route.regex.
const (
	KeyRegex       = "regex"
	KeyReplacement = "replacement"
)

var routeRegexType = typeDef{
	name: "route.regex",
	doc: "Routes tables to topics by regular expression (like Kafka Connect's RegexRouter, but over \"db.table\" rather than " +
		"the topic): when regex matches the table's \"db.table\" (anchored, case-insensitive), its events go to the topic " +
		"replacement, where $1 or ${1} is the first group ($$ is a dollar sign); characters outside [A-Za-z0-9_-] become " +
		"'_'. Unmatched tables keep their topic. The event's database and table are unchanged, so sinks still see the " +
		"source table; the worker tags routed messages with db.table. When tables of different shapes share a topic, set " +
		"value.converter.subject.name.strategy=topic-record so each table keeps its own registry subject.",
	keys: []spec.Key{
		{Name: KeyRegex, Type: spec.String, Required: true, Validate: validPattern, Doc: "The regular expression over \"db.table\"."},
		{Name: KeyReplacement, Type: spec.String, Required: true, Doc: "The topic, with $1 ... group references, e.g. \"cdc_$1\"."},
	},
	build: func(p *params) transformer {
		re, _ := compilePatterns([]string{p.str(KeyRegex)})
		parts, err := parseReplacement(p.str(KeyReplacement), re.NumSubexp())
		if err != nil {
			p.fail(KeyReplacement, "%v", err)
		}
		return &router{re: re, parts: parts}
	},
}

// replPart is a literal (group < 0) or a group reference.
type replPart struct {
	lit   string
	group int
}

// parseReplacement splits a replacement into literals and group
// references: $n takes only the digits ("$1_x" is group 1 then "_x", unlike
// regexp.Expand), ${n} and $$ as usual; $0 is the whole match. groups is
// the number of groups of the regex.
func parseReplacement(s string, groups int) ([]replPart, error) {
	var parts []replPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, replPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			lit.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			lit.WriteByte('$')
			i++
			continue
		}
		var num string
		switch {
		case i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed ${ in %q", s)
			}
			num = s[i+2 : i+end]
			i += end
		default:
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			num = s[i+1 : j]
			i = j - 1
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q: a $ must be followed by a group number, {number} or $", s)
		}
		if n > groups {
			return nil, fmt.Errorf("group $%d is not in the regex, which has %d groups", n, groups)
		}
		flush()
		parts = append(parts, replPart{group: n})
	}
	flush()
	if len(parts) == 0 {
		return nil, fmt.Errorf("the replacement is empty")
	}
	return parts, nil
}

// router is route.regex.
type router struct {
	re    *regexp.Regexp
	parts []replPart
}

func (r *router) plan(in shape) (shape, rowOp, error) {
	qn := in.db + "." + in.table
	m := r.re.FindStringSubmatchIndex(qn)
	if m == nil {
		return in, nil, nil
	}
	var sb strings.Builder
	for _, p := range r.parts {
		if p.group < 0 {
			sb.WriteString(p.lit)
			continue
		}
		g := 2 * p.group
		if m[g] >= 0 {
			sb.WriteString(qn[m[g]:m[g+1]])
		}
	}
	topic := connect.SanitizeTopic(sb.String())
	if err := spec.TopicName(topic); err != nil || topic == "" {
		return in, nil, fmt.Errorf("routing %s to topic %q: not a valid topic name", qn, topic)
	}
	in.topic = topic
	return in, nil, nil
}

// validPattern is the spec Validate func of a single regular expression.
func validPattern(v string) error {
	_, err := compilePatterns([]string{strings.TrimSpace(v)})
	return err
}
