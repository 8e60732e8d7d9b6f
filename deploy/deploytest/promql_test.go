package deploytest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A small PromQL reader: enough of the language to find every metric
// selector of an expression, the label names it matches on, the functions
// it sits in and the labels of by/without/on/ignoring clauses. It is not a
// full parser; it rejects what it does not know (unknown functions, bare
// Grafana variables) instead of guessing.

// promFuncs are the PromQL functions and aggregations the files may use.
var promFuncs = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "count": true, "topk": true, "bottomk": true,
	"quantile": true, "stddev": true, "group": true, "count_values": true,
	"rate": true, "irate": true, "increase": true, "delta": true, "idelta": true, "deriv": true, "changes": true,
	"resets": true, "histogram_quantile": true, "abs": true, "ceil": true, "floor": true, "round": true,
	"clamp": true, "clamp_min": true, "clamp_max": true, "scalar": true, "vector": true, "time": true,
	"absent": true, "absent_over_time": true, "avg_over_time": true, "max_over_time": true, "min_over_time": true,
	"sum_over_time": true, "count_over_time": true, "last_over_time": true, "quantile_over_time": true,
	"label_replace": true, "label_join": true, "sort": true, "sort_desc": true, "timestamp": true,
}

// counterFuncs need a counter (or a histogram's cumulative series).
var counterFuncs = map[string]bool{"rate": true, "irate": true, "increase": true, "resets": true}

// groupingKeywords take a parenthesised list of label names.
var groupingKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// operatorKeywords are binary operators and modifiers written as words.
var operatorKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true}

// selector is one metric selector in an expression.
type selector struct {
	name   string
	labels []string // label names in its {...} matchers
	funcs  []string // enclosing function calls, outermost first
}

// promExpr is what the reader found in one expression.
type promExpr struct {
	selectors []selector
	grouping  []string // labels of by/without/on/ignoring/group_* clauses
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// skipString returns the index after the string literal starting at i.
func skipString(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at %d", i)
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

func readIdent(s string, i int) (string, int) {
	j := i
	for j < len(s) && isIdentChar(s[j]) {
		j++
	}
	return s[i:j], j
}

// parseMatchers reads {label op "value", ...} starting at the '{' at i and
// returns the label names and the index after the '}'.
func parseMatchers(s string, i int) ([]string, int, error) {
	var labels []string
	i++
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return nil, 0, fmt.Errorf("unterminated matchers")
		}
		if s[i] == '}' {
			return labels, i + 1, nil
		}
		if s[i] == ',' {
			i++
			continue
		}
		if !isIdentStart(s[i]) {
			return nil, 0, fmt.Errorf("unexpected %q in matchers at %d", s[i], i)
		}
		var name string
		name, i = readIdent(s, i)
		labels = append(labels, name)
		i = skipSpace(s, i)
		switch {
		case strings.HasPrefix(s[i:], "=~"), strings.HasPrefix(s[i:], "!~"), strings.HasPrefix(s[i:], "!="):
			i += 2
		case strings.HasPrefix(s[i:], "="):
			i++
		default:
			return nil, 0, fmt.Errorf("matcher on %s has no operator", name)
		}
		i = skipSpace(s, i)
		if i >= len(s) || (s[i] != '"' && s[i] != '\'' && s[i] != '`') {
			return nil, 0, fmt.Errorf("matcher on %s has no string value", name)
		}
		var err error
		if i, err = skipString(s, i); err != nil {
			return nil, 0, err
		}
	}
}

// parsePromQL reads expr.
func parsePromQL(expr string) (*promExpr, error) {
	out := &promExpr{}
	var stack []string // open parentheses: function name, or "" for grouping
	s := expr
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'' || c == '`':
			j, err := skipString(s, i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated range at %d", i)
			}
			i += j + 1
		case c == '{':
			return nil, fmt.Errorf("selector without a metric name at %d", i)
		case c == '(':
			stack = append(stack, "")
			i++
		case c == ')':
			if len(stack) == 0 {
				return nil, fmt.Errorf("unbalanced ) at %d", i)
			}
			stack = stack[:len(stack)-1]
			i++
		case c >= '0' && c <= '9' || c == '.':
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '.') {
				i++
			}
		case isIdentStart(c):
			name, j := readIdent(s, i)
			k := skipSpace(s, j)
			if promFuncs[name] && k < len(s) && isIdentStart(s[k]) {
				// An aggregation with its clause first: sum by (a, b) (...).
				kw, after := readIdent(s, k)
				if kw == "by" || kw == "without" {
					open := skipSpace(s, after)
					end := strings.IndexByte(s[open:], ')')
					if open >= len(s) || s[open] != '(' || end < 0 {
						return nil, fmt.Errorf("malformed %s clause of %s", kw, name)
					}
					for _, l := range strings.Split(s[open+1:open+end], ",") {
						if l = strings.TrimSpace(l); l != "" {
							out.grouping = append(out.grouping, l)
						}
					}
					k = skipSpace(s, open+end+1)
				}
			}
			followedByParen := k < len(s) && s[k] == '('
			switch {
			case groupingKeywords[name]:
				if !followedByParen {
					i = j // group_left without labels
					continue
				}
				end := strings.IndexByte(s[k:], ')')
				if end < 0 {
					return nil, fmt.Errorf("unterminated %s clause", name)
				}
				for _, l := range strings.Split(s[k+1:k+end], ",") {
					if l = strings.TrimSpace(l); l != "" {
						out.grouping = append(out.grouping, l)
					}
				}
				i = k + end + 1
			case operatorKeywords[name]:
				i = j
			case followedByParen:
				if !promFuncs[name] {
					return nil, fmt.Errorf("unknown function %s", name)
				}
				stack = append(stack, name)
				i = k + 1
			default:
				sel := selector{name: name, funcs: slices.Clone(stack)}
				if k < len(s) && s[k] == '{' {
					labels, end, err := parseMatchers(s, k)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", name, err)
					}
					sel.labels = labels
					j = end
				}
				out.selectors = append(out.selectors, sel)
				i = j
			}
		case c == '$':
			return nil, fmt.Errorf("Grafana variable outside a string or range at %d", i)
		default:
			i++ // operators, commas
		}
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("unbalanced (")
	}
	return out, nil
}

// targetLabels are attached by Prometheus to every scraped series.
var targetLabels = []string{"instance", "job"}

// resolve finds the metric family of a series name: the name itself, or a
// histogram's (summary's) _bucket, _sum or _count series.
func resolve(cat map[string]metricInfo, name string) (family string, suffix string, mi metricInfo, ok bool) {
	if mi, ok := cat[name]; ok {
		return name, "", mi, true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		base, found := strings.CutSuffix(name, suf)
		if !found {
			continue
		}
		mi, ok := cat[base]
		if !ok {
			continue
		}
		if mi.kind == kindHistogram || (mi.kind == kindSummary && suf != "_bucket") {
			return base, suf, mi, true
		}
	}
	return "", "", metricInfo{}, false
}

// checkPromQL checks expr against the catalog and returns the metric
// families it uses.
func checkPromQL(cat map[string]metricInfo, expr string) ([]string, []error) {
	pe, err := parsePromQL(expr)
	if err != nil {
		return nil, []error{err}
	}
	var errs []error
	var families []string
	allLabels := slices.Clone(targetLabels)
	for _, sel := range pe.selectors {
		fam, suffix, mi, ok := resolve(cat, sel.name)
		if !ok {
			errs = append(errs, fmt.Errorf("metric %s is not exported by binlake", sel.name))
			continue
		}
		families = append(families, fam)
		labels := append(slices.Clone(mi.labels), targetLabels...)
		if suffix == "_bucket" {
			labels = append(labels, "le")
		}
		allLabels = append(allLabels, labels...)
		for _, l := range sel.labels {
			if !slices.Contains(labels, l) {
				errs = append(errs, fmt.Errorf("%s has no label %q (labels: %v)", sel.name, l, mi.labels))
			}
		}
		inCounterFunc := slices.ContainsFunc(sel.funcs, func(f string) bool { return counterFuncs[f] })
		if inCounterFunc && mi.kind != kindCounter && suffix == "" {
			errs = append(errs, fmt.Errorf("%s is a %s; rate/increase need a counter", sel.name, mi.kind))
		}
		inQuantile := slices.Contains(sel.funcs, "histogram_quantile")
		if inQuantile && suffix != "_bucket" {
			errs = append(errs, fmt.Errorf("histogram_quantile over %s, which is not a histogram's _bucket series", sel.name))
		}
		if suffix == "_bucket" && !inQuantile {
			errs = append(errs, fmt.Errorf("%s used outside histogram_quantile", sel.name))
		}
		if inQuantile && !slices.Contains(pe.grouping, "le") {
			errs = append(errs, fmt.Errorf("histogram_quantile over %s does not keep the le label", sel.name))
		}
		if suffix != "" && !inCounterFunc {
			errs = append(errs, fmt.Errorf("%s is cumulative; use it inside rate or increase", sel.name))
		}
	}
	for _, l := range pe.grouping {
		if !slices.Contains(allLabels, l) {
			errs = append(errs, fmt.Errorf("grouping label %q is on none of the expression's metrics", l))
		}
	}
	return families, errs
}

// labelValuesRE matches a Grafana label_values(selector, label) query.
var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// checkLabelValues checks a Grafana variable query.
func checkLabelValues(cat map[string]metricInfo, q string) []error {
	m := labelValuesRE.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		return []error{fmt.Errorf("variable query %q is not label_values(selector, label)", q)}
	}
	fams, errs := checkPromQL(cat, m[1])
	if len(fams) != 1 {
		return append(errs, fmt.Errorf("variable query %q should select one metric", q))
	}
	mi := cat[fams[0]]
	if !slices.Contains(append(slices.Clone(mi.labels), targetLabels...), m[2]) {
		errs = append(errs, fmt.Errorf("variable query %q: %s has no label %s", q, fams[0], m[2]))
	}
	return errs
}

// TestPromQLChecker makes sure the checker catches what it is for, on the
// real catalog.
func TestPromQLChecker(t *testing.T) {
	cat := metricCatalog(t)
	good := []string{
		`sum by (table, op) (rate(binlake_source_events_total{connector=~"$connector"}[$__rate_interval]))`,
		`histogram_quantile(0.99, sum by (connector, le) (rate(binlake_sink_commit_seconds_bucket[5m])))`,
		`sum(rate(binlake_sink_commit_seconds_sum[5m])) / sum(rate(binlake_sink_commit_seconds_count[5m]))`,
		`max by (connector, task) (binlake_task_state{state="FAILED"}) == 1`,
		`(sum(rate(binlake_source_events_total[15m])) > 0) and on() (sum(rate(binlake_sink_records_total[15m])) or on() vector(0)) == 0`,
		`process_resident_memory_bytes{job=~".*binlake.*"} > 640 * 1024 * 1024`,
	}
	for _, e := range good {
		if _, errs := checkPromQL(cat, e); len(errs) > 0 {
			t.Errorf("%s: %v", e, errs)
		}
	}
	bad := map[string]string{
		"unknown metric":            `rate(binlake_source_rows_total[5m])`,
		"gauge in rate":             `rate(binlake_source_lag_seconds[5m])`,
		"quantile over non-bucket":  `histogram_quantile(0.9, rate(binlake_sink_commit_seconds_sum[5m]))`,
		"quantile without le":       `histogram_quantile(0.9, sum by (connector) (rate(binlake_sink_commit_seconds_bucket[5m])))`,
		"bucket outside quantile":   `sum(rate(binlake_sink_commit_seconds_bucket[5m]))`,
		"unknown label":             `binlake_source_lag_seconds{table="x"}`,
		"unknown grouping label":    `sum by (database) (binlake_task_state)`,
		"suffix on counter":         `rate(binlake_sink_commits_total_count[5m])`,
		"cumulative outside rate":   `binlake_producer_send_seconds_count`,
		"unknown function":          `sumrate(binlake_task_state)`,
		"bare grafana variable":     `binlake_task_state > $threshold`,
		"selector without a metric": `{connector="x"}`,
	}
	for what, e := range bad {
		if _, errs := checkPromQL(cat, e); len(errs) == 0 {
			t.Errorf("%s: %s passed the checker", what, e)
		}
	}
	if errs := checkLabelValues(cat, `label_values(binlake_task_state, connector)`); len(errs) > 0 {
		t.Errorf("label_values: %v", errs)
	}
	if errs := checkLabelValues(cat, `label_values(binlake_source_lag_seconds, table)`); len(errs) == 0 {
		t.Error("label_values over a label the metric lacks passed the checker")
	}
}
