package deploytest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// dashboard is the part of a Grafana dashboard the checks read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasourceRef  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	GridPos    *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Expr       string         `json:"expr"`
		RefID      string         `json:"refId"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // collapsed rows
}

func loadDashboard(t *testing.T) *dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(readRepoFile(t, "deploy", "grafana", "binlake.json"), &d); err != nil {
		t.Fatalf("parsing deploy/grafana/binlake.json: %v", err)
	}
	return &d
}

func flatPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatPanels(p.Panels)...)
	}
	return out
}

func TestGrafanaDashboard(t *testing.T) {
	d := loadDashboard(t)
	cat := metricCatalog(t)
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard needs a uid and a title")
	}

	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		switch v.Type {
		case "datasource":
			var q string
			if err := json.Unmarshal(v.Query, &q); err != nil || q != "prometheus" {
				t.Errorf("variable %s: datasource variable must query prometheus, has %s", v.Name, v.Query)
			}
		case "query":
			var q struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil {
				var s string
				if err := json.Unmarshal(v.Query, &s); err != nil {
					t.Errorf("variable %s: unreadable query %s", v.Name, v.Query)
					continue
				}
				q.Query = s
			}
			for _, err := range checkLabelValues(cat, q.Query) {
				t.Errorf("variable %s: %v", v.Name, err)
			}
			if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("variable %s does not use the datasource variable", v.Name)
			}
		}
	}
	if vars["datasource"] != "datasource" {
		t.Error("the dashboard needs a datasource variable named datasource")
	}
	if vars["connector"] != "query" {
		t.Error("the dashboard needs a connector query variable")
	}

	used := map[string]bool{}
	ids := map[int]string{}
	for _, p := range flatPanels(d.Panels) {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q has no valid gridPos", p.Title)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the datasource variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if refs[tg.RefID] {
				t.Errorf("panel %q repeats refId %s", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q query %s does not use the datasource variable", p.Title, tg.RefID)
			}
			fams, errs := checkPromQL(cat, tg.Expr)
			for _, err := range errs {
				t.Errorf("panel %q query %s: %v\n  %s", p.Title, tg.RefID, err, tg.Expr)
			}
			for _, f := range fams {
				used[f] = true
				// Every binlake series carries a connector label: filter it.
				if strings.HasPrefix(f, "binlake_") && !strings.Contains(tg.Expr, `connector=~"$connector"`) {
					t.Errorf("panel %q query %s ignores the connector variable", p.Title, tg.RefID)
				}
			}
		}
	}

	// Every binlake metric is on the dashboard.
	var missing []string
	for name := range cat {
		if strings.HasPrefix(name, "binlake_") && !used[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("metrics with no panel: %v", missing)
	}
}

// TestGrafanaPanels checks the panels the operations guide refers to exist.
func TestGrafanaPanels(t *testing.T) {
	d := loadDashboard(t)
	var titles []string
	for _, p := range flatPanels(d.Panels) {
		titles = append(titles, p.Title)
	}
	for _, want := range []string{"Task state", "Task errors", "Dead-lettered records", "Source events/s by table and op",
		"Source lag", "Snapshot rows/s", "Producer send latency p50 / p99", "Sink records/s by table and op", "Commits/s",
		"Commit latency p50 / p99", "Freshness p50 / p99", "Resident memory"} {
		if !slices.Contains(titles, want) {
			t.Errorf("no panel %q (have %s)", want, fmt.Sprint(titles))
		}
	}
}
