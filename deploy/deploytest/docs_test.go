package deploytest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// errorBlockMarker is the word in a fenced block's info string that marks
// quoted binlake messages (```text binlake-error).
const errorBlockMarker = "binlake-error"

// quotedMessages returns the lines of the marked blocks of a Markdown file.
func quotedMessages(t *testing.T, md string) []string {
	t.Helper()
	var out []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(md))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			if in {
				in = false
				continue
			}
			in = containsWord(strings.TrimPrefix(trimmed, "```"), errorBlockMarker)
			continue
		}
		if in && trimmed != "" {
			out = append(out, trimmed)
		}
	}
	if in {
		t.Fatal("unterminated binlake-error block")
	}
	return out
}

func containsWord(info, word string) bool {
	for _, f := range strings.Fields(info) {
		if f == word {
			return true
		}
	}
	return false
}

// hole stands for a value filled in at run time, in both a Go format string
// (a verb) and a quoted message (<...>).
const hole = "\x00"

var (
	verbRE        = regexp.MustCompile(`%[-+# 0]*(\d+|\*)?(\.(\d+|\*))?[a-zA-Z]`)
	placeholderRE = regexp.MustCompile(`<[^<>]+>`)
)

// normalizeGo turns a Go string into the form quoted messages are compared
// in: verbs become holes, %% a percent sign.
func normalizeGo(s string) string {
	return strings.ReplaceAll(verbRE.ReplaceAllString(s, hole), "%%", "%")
}

// normalizeQuote turns a quoted message into its comparable core: <...>
// become holes, and holes and spaces at either end are dropped (the code
// appends a wrapped error or prepends what it was doing there).
func normalizeQuote(s string) string {
	s = placeholderRE.ReplaceAllString(s, hole)
	return strings.Trim(s, hole+" ")
}

// minQuoteLen keeps quotes specific enough to mean something.
const minQuoteLen = 8

func TestTroubleshootingMessages(t *testing.T) {
	quotes := quotedMessages(t, string(readRepoFile(t, "docs", "troubleshooting.md")))
	if len(quotes) < 40 {
		t.Fatalf("only %d quoted messages in docs/troubleshooting.md", len(quotes))
	}
	var lits []string
	for _, l := range goStringLiterals(t) {
		lits = append(lits, normalizeGo(l))
	}
	for _, q := range quotes {
		core := normalizeQuote(q)
		if len(strings.ReplaceAll(core, hole, "")) < minQuoteLen {
			t.Errorf("quote %q is too short to check", q)
			continue
		}
		found := false
		for _, l := range lits {
			if strings.Contains(l, core) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("docs/troubleshooting.md quotes %q, which no Go string in the repository contains (any more)", q)
		}
	}
}

func TestQuoteNormalization(t *testing.T) {
	lit := normalizeGo("reading %s queue %d offset %d (set errors.tolerance=all to skip such records): %w")
	for q, want := range map[string]bool{
		"reading <topic> queue <n> offset <n> (set errors.tolerance=all to skip such records): ":        true,
		"reading <topic> queue <n> offset <n> (set errors.tolerance=all to skip such records): <cause>": true,
		"reading <topic> queue <n> (set errors.tolerance=all to skip such records)":                     false,
		"reading <topic> queue <n> offset <n> (set errors.tolerance=none)":                              false,
	} {
		if got := strings.Contains(lit, normalizeQuote(q)); got != want {
			t.Errorf("%q in %q: %v, want %v", q, lit, got, want)
		}
	}
	if got := normalizeGo("(~%.0f%%) at %-8s"); got != "(~"+hole+"%) at "+hole {
		t.Errorf("normalizeGo = %q", got)
	}
}

// curlCall is one REST call in a document.
type curlCall struct {
	line         int
	method, path string
}

var (
	curlPathRE   = regexp.MustCompile(`\$BINLAKE(/[^\s"'?]*)`)
	curlMethodRE = regexp.MustCompile(`-X\s*(GET|POST|PUT|DELETE)\b`)
)

// curlCalls finds the curl commands against "$BINLAKE" in a document.
func curlCalls(md string) []curlCall {
	var out []curlCall
	for i, line := range strings.Split(md, "\n") {
		if !strings.Contains(line, "curl ") {
			continue
		}
		for _, m := range curlPathRE.FindAllStringSubmatch(line, -1) {
			method := "GET"
			if mm := curlMethodRE.FindStringSubmatch(line); mm != nil {
				method = mm[1]
			} else if strings.Contains(line, " -d ") || strings.Contains(line, "--data") {
				method = "POST"
			}
			out = append(out, curlCall{line: i + 1, method: method, path: m[1]})
		}
	}
	return out
}

func TestDocsCurlRoutes(t *testing.T) {
	routes := apiRoutes(t)
	for _, doc := range []string{"troubleshooting.md", "operations.md"} {
		calls := curlCalls(string(readRepoFile(t, "docs", doc)))
		if len(calls) < 5 {
			t.Errorf("docs/%s: only %d curl calls found", doc, len(calls))
		}
		for _, c := range calls {
			if _, ok := routes.match(c.method, c.path); !ok {
				t.Errorf("docs/%s:%d: %s %s is not a route of the REST API", doc, c.line, c.method, c.path)
			}
		}
	}
}

// TestOperationsFlags checks the worker flag table of docs/operations.md
// lists every flag of cmd/binlake/flags.go with its variable and, for string
// flags, its default.
func TestOperationsFlags(t *testing.T) {
	rows := map[string]string{}
	for _, line := range strings.Split(string(readRepoFile(t, "docs", "operations.md")), "\n") {
		if m := regexp.MustCompile("^\\| `--([a-z.-]+)` \\|").FindStringSubmatch(line); m != nil {
			rows[m[1]] = line
		}
	}
	flags := workerFlags(t)
	for _, f := range flags {
		row, ok := rows[f.name]
		if !ok {
			t.Errorf("docs/operations.md has no row for --%s", f.name)
			continue
		}
		if !strings.Contains(row, "`"+envName(f.name)+"`") {
			t.Errorf("row of --%s does not name %s", f.name, envName(f.name))
		}
		if f.def != "" && !strings.Contains(row, "`"+f.def+"`") {
			t.Errorf("row of --%s does not show its default %q", f.name, f.def)
		}
		delete(rows, f.name)
	}
	for name := range rows {
		t.Errorf("docs/operations.md documents --%s, which the worker does not have", name)
	}
}

// TestDocsLinks checks relative links of the operations documents.
func TestDocsLinks(t *testing.T) {
	linkRE := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, doc := range []string{"troubleshooting.md", "operations.md"} {
		md := string(readRepoFile(t, "docs", doc))
		n := 0
		for _, m := range linkRE.FindAllStringSubmatch(md, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			if _, err := os.Stat(filepath.Join(root, "docs", target)); err != nil {
				t.Errorf("docs/%s links to %s, which does not exist", doc, target)
			}
		}
		if n == 0 {
			t.Errorf("docs/%s has no relative links", doc)
		}
	}
}
