package deploytest

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// ruleFile is a Prometheus rule file.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// promDurationRE is Prometheus's duration syntax (a subset: one or more
// number-unit pairs).
var promDurationRE = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)

func TestPrometheusAlerts(t *testing.T) {
	var rf ruleFile
	dec := yaml.NewDecoder(strings.NewReader(string(readRepoFile(t, "deploy", "prometheus", "alerts.yaml"))))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("parsing deploy/prometheus/alerts.yaml: %v", err)
	}
	cat := metricCatalog(t)
	seen := map[string]bool{}
	n := 0
	for _, g := range rf.Groups {
		if g.Name == "" {
			t.Error("a rule group has no name")
		}
		for _, r := range g.Rules {
			n++
			if r.Alert == "" {
				t.Errorf("group %s: a rule without an alert name", g.Name)
				continue
			}
			if seen[r.Alert] {
				t.Errorf("alert %s is defined twice", r.Alert)
			}
			seen[r.Alert] = true
			if _, errs := checkPromQL(cat, r.Expr); len(errs) > 0 {
				for _, err := range errs {
					t.Errorf("alert %s: %v\n  %s", r.Alert, err, r.Expr)
				}
			}
			if r.For != "" && !promDurationRE.MatchString(r.For) {
				t.Errorf("alert %s: for %q is not a Prometheus duration", r.Alert, r.For)
			}
			switch r.Labels["severity"] {
			case "critical", "warning":
			default:
				t.Errorf("alert %s: severity %q, want critical or warning", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s needs a summary and a description", r.Alert)
			}
			// Range selectors must be valid durations too.
			for _, m := range regexp.MustCompile(`\[([^\]]+)\]`).FindAllStringSubmatch(r.Expr, -1) {
				if !promDurationRE.MatchString(m[1]) {
					t.Errorf("alert %s: range [%s] is not a duration", r.Alert, m[1])
				} else if d, err := time.ParseDuration(m[1]); err == nil && d < time.Minute {
					t.Errorf("alert %s: range [%s] is shorter than a minute; rates over it are noisy", r.Alert, m[1])
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no rules")
	}
	// The guide's alert table names these.
	for _, a := range []string{"BinlakeTaskFailed", "BinlakeTaskRestarting", "BinlakeSourceLagHigh", "BinlakeFreshnessHigh",
		"BinlakeSinkStalled", "BinlakeDeadLetters", "BinlakeMemoryHigh"} {
		if !seen[a] {
			t.Errorf("no alert %s", a)
		}
	}
}
