#!/usr/bin/env bash
# Runs every unit test with the race detector, then the integration suite (-tags integration, without -race:
# real MariaDB, MySQL, RocketMQ and MinIO servers through integration/containers), and ends with a
# "N passed, N failed, N skipped" line. Expects `make images python` to have run.
#
# Environment: BINLAKE_TEST_TIMEOUT (go test -timeout, default 60m), BINLAKE_TEST_P (packages
# tested in parallel, default 2), BINLAKE_TEST_RUN (a -run filter), BINLAKE_TEST_PKGS (default ./...).
# The go test -json stream is kept in ${BINLAKE_CACHE}/test-results/go-test.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export BINLAKE_CACHE="${BINLAKE_CACHE:-$HOME/.cache/binlake}"
export TESTCONTAINERS_HOST_OVERRIDE="${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1}"
export TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}"
export BINLAKE_PYTHON="${BINLAKE_PYTHON:-$BINLAKE_CACHE/venv/bin/python}"
out="$BINLAKE_CACHE/test-results"
mkdir -p "$out"
json="$out/go-test.json"

read -r -a pkgs <<<"${BINLAKE_TEST_PKGS:-./...}"
runflag=()
if [[ -n "${BINLAKE_TEST_RUN:-}" ]]; then runflag=(-run "$BINLAKE_TEST_RUN"); fi

# summarize COUNTS_FILE: reads go test -json on stdin, prints one line per package and the output of failed tests,
# and writes "passed failed skipped failed-packages" to COUNTS_FILE.
summarize() {
  python3 -u -c '
import json, sys
# Prints one line per package, the output of failed tests, and the totals.
buf, counts, failed_pkgs = {}, {"pass": 0, "fail": 0, "skip": 0}, []
for line in sys.stdin:
    try:
        ev = json.loads(line)
    except ValueError:
        print(line, end="")  # build errors and other non-JSON output
        continue
    pkg, test, action = ev.get("Package", ""), ev.get("Test"), ev.get("Action")
    key = (pkg, test)
    if action == "output":
        b = buf.setdefault(key, [])
        if len(b) < 2000:
            b.append(ev.get("Output", ""))
    elif action in ("pass", "fail", "skip"):
        if test:
            counts[action] += 1
            if action == "fail":
                print("--- FAIL: %s %s" % (pkg, test))
                print("".join(buf.get(key, [])), end="")
        else:
            elapsed = ev.get("Elapsed", 0)
            word = {"pass": "ok  ", "fail": "FAIL", "skip": "----"}[action]
            print("%s %s %.1fs" % (word, pkg, elapsed))
            if action == "fail":
                failed_pkgs.append(pkg)
                if not any(k[0] == pkg and k[1] for k in buf):
                    print("".join(buf.get(key, [])), end="")
        buf.pop(key, None)
print("phase totals: %d tests passed, %d failed, %d skipped; %d packages failed" % (counts["pass"], counts["fail"], counts["skip"], len(failed_pkgs)))
open(sys.argv[1], "w").write("%d %d %d %d\n" % (counts["pass"], counts["fail"], counts["skip"], len(failed_pkgs)))
sys.exit(1 if counts["fail"] or failed_pkgs else 0)
' "$1"
}

start=$SECONDS
overall=0
# Phase 1: the unit tests of every package, with the race detector (no servers).
echo "run-tests: phase 1: unit tests with -race"
set +e
go test -race -count=1 -timeout "${BINLAKE_TEST_TIMEOUT:-60m}" -json "${runflag[@]}" "${pkgs[@]}" 2>&1 | tee "$json" | summarize "$out/unit.counts"
st=("${PIPESTATUS[@]}")
set -e
[[ ${st[0]} -ne 0 || ${st[2]} -ne 0 ]] && overall=1

# Phase 2: the packages with integration tests (build tag `integration`) on real servers, without -race:
# rocketmq-client-go has data races of its own (in its pull consumer and producer shutdown) that the detector reports
# inside the library. -p: test binaries at a time; each package shares its servers between its tests.
mapfile -t ipkgs < <(grep -rl --include='*_test.go' '^//go:build integration' . | xargs -n1 dirname | sort -u)
if [[ -n "${BINLAKE_TEST_PKGS:-}" ]]; then ipkgs=("${pkgs[@]}"); fi
: > "$out/integration.counts"
if [[ ${#ipkgs[@]} -gt 0 ]]; then
  echo "run-tests: phase 2: integration tests in ${ipkgs[*]}"
  set +e
  go test -tags integration -count=1 -timeout "${BINLAKE_TEST_TIMEOUT:-60m}" -p "${BINLAKE_TEST_P:-2}" -json "${runflag[@]}" "${ipkgs[@]}" 2>&1 \
    | tee "$json.integration" | summarize "$out/integration.counts"
  st=("${PIPESTATUS[@]}")
  set -e
  [[ ${st[0]} -ne 0 || ${st[2]} -ne 0 ]] && overall=1
fi
echo "run-tests: $((SECONDS - start))s; JSON in $json and $json.integration"
# The closing line: tests of both phases (a package's unit tests run in both phases and count twice).
cat "$out/unit.counts" "$out/integration.counts" | awk '{p+=$1; f+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped\n", p, f, s}'
exit "$overall"
