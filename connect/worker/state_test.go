package worker

import (
	"errors"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

func TestTransition(t *testing.T) {
	// want[from][action] = target; "-" marks a conflict.
	want := map[State]map[Action]State{
		absent:  {ActCreate: Running, ActUpdate: "-", ActPause: "-", ActResume: "-", ActStop: "-", ActRestart: "-", ActDelete: "-"},
		Running: {ActCreate: "-", ActUpdate: Running, ActPause: Paused, ActResume: Running, ActStop: Stopped, ActRestart: Running, ActDelete: absent},
		Paused:  {ActCreate: "-", ActUpdate: Paused, ActPause: Paused, ActResume: Running, ActStop: Stopped, ActRestart: Paused, ActDelete: absent},
		Stopped: {ActCreate: "-", ActUpdate: Stopped, ActPause: Paused, ActResume: Running, ActStop: Stopped, ActRestart: "-", ActDelete: absent},
		Failed:  {ActCreate: "-", ActUpdate: Running, ActPause: Paused, ActResume: Running, ActStop: Stopped, ActRestart: Running, ActDelete: absent},
	}
	for from, row := range want {
		if len(row) != len(Actions) {
			t.Fatalf("test table row %q misses actions", from)
		}
		for a, to := range row {
			got, err := Transition(from, a)
			if to == "-" {
				var ce *ConflictError
				if !errors.As(err, &ce) {
					t.Errorf("%q + %s: got %q, %v; want a conflict", from, a, got, err)
				} else if ce.Error() == "" {
					t.Errorf("%q + %s: empty conflict message", from, a)
				}
				continue
			}
			if err != nil || got != to {
				t.Errorf("%q + %s = %q, %v; want %q", from, a, got, err, to)
			}
		}
	}
	// Observed states that are never targets have no transitions.
	for _, s := range []State{Unassigned, Restarting} {
		for _, a := range Actions {
			if _, err := Transition(s, a); err == nil {
				t.Errorf("%s + %s: want a conflict", s, a)
			}
		}
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{Initial: 100e6, Max: 1e9}
	for n, base := range []float64{100e6, 200e6, 400e6, 800e6, 1e9, 1e9, 1e9} {
		for i := 0; i < 20; i++ {
			d := float64(p.backoff(n))
			if d < base*0.8-1 || d > base*1.2+1 {
				t.Fatalf("backoff(%d) = %v, want within 20%% of %v", n, d, base)
			}
		}
	}
	if d := p.backoff(1 << 20); float64(d) > 1.2e9 {
		t.Fatalf("backoff of a huge attempt = %v, want capped", d)
	}
}

func TestValidName(t *testing.T) {
	for name, ok := range map[string]bool{"a": true, "my-conn_1.x": true, "": false, ".hidden": false, "..": false,
		"a/b": false, "a b": false, "-x": false} {
		if ValidName(name) != ok {
			t.Errorf("ValidName(%q) = %v", name, !ok)
		}
	}
}

func TestCheckTopicAssignment(t *testing.T) {
	ok := []connect.Config{{spec.TopicNames: "a,b"}, {spec.TopicNames: "c"}}
	if err := checkTopicAssignment(ok); err != nil {
		t.Fatal(err)
	}
	bad := []connect.Config{{spec.TopicNames: "a,b"}, {spec.TopicNames: "c, b"}}
	err := checkTopicAssignment(bad)
	if err == nil || !connect.IsTerminal(err) || !strings.Contains(err.Error(), "topic b to tasks 0 and 1") {
		t.Fatalf("err = %v", err)
	}
}
