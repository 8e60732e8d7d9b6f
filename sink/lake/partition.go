package lake

import (
	"fmt"
	"strconv"
	"strings"
)

// PartitionField is one parsed term of partition.spec: a transform of a
// source column. Param is the bucket count or truncate width (0 otherwise).
type PartitionField struct {
	Transform string
	Param     int
	Column    string
}

// The partition transforms partition.spec accepts.
var partitionTransforms = map[string]bool{
	"identity": true, "bucket": true, "truncate": true,
	"year": true, "month": true, "day": true, "hour": true,
}

// ParsePartitionSpec parses text like "bucket(16,id), day(created_at), region"
// (a bare column name means identity). Empty text is no partitioning.
func ParsePartitionSpec(text string) ([]PartitionField, error) {
	var out []PartitionField
	for _, term := range splitTerms(text) {
		f, err := parsePartitionTerm(term)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// splitTerms splits at commas outside parentheses.
func splitTerms(text string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range text {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, text[start:i])
				start = i + 1
			}
		}
	}
	out = append(out, text[start:])
	terms := out[:0]
	for _, t := range out {
		if t = strings.TrimSpace(t); t != "" {
			terms = append(terms, t)
		}
	}
	return terms
}

func parsePartitionTerm(term string) (PartitionField, error) {
	open := strings.IndexByte(term, '(')
	if open < 0 {
		if !validIdent(term) {
			return PartitionField{}, fmt.Errorf("partition term %q is not a column name or transform(column)", term)
		}
		return PartitionField{Transform: "identity", Column: term}, nil
	}
	if !strings.HasSuffix(term, ")") {
		return PartitionField{}, fmt.Errorf("partition term %q has no closing parenthesis", term)
	}
	name := strings.ToLower(strings.TrimSpace(term[:open]))
	if !partitionTransforms[name] {
		return PartitionField{}, fmt.Errorf("partition transform %q is not one of identity, bucket, truncate, year, month, day, hour", name)
	}
	args := strings.Split(term[open+1:len(term)-1], ",")
	for i := range args {
		args[i] = strings.TrimSpace(args[i])
	}
	f := PartitionField{Transform: name}
	switch name {
	case "bucket", "truncate":
		if len(args) != 2 {
			return PartitionField{}, fmt.Errorf("partition term %q: %s takes (n, column)", term, name)
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 {
			return PartitionField{}, fmt.Errorf("partition term %q: %q is not a positive integer", term, args[0])
		}
		f.Param, f.Column = n, args[1]
	default:
		if len(args) != 1 {
			return PartitionField{}, fmt.Errorf("partition term %q: %s takes one column", term, name)
		}
		f.Column = args[0]
	}
	if !validIdent(f.Column) {
		return PartitionField{}, fmt.Errorf("partition term %q: %q is not a column name", term, f.Column)
	}
	return f, nil
}

func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c == '(' || c == ')' || c == ',' || c == ' ' {
			return false
		}
	}
	return true
}
