#!/usr/bin/env bash
# Runs every Go test with the race detector, the integration suite included (-tags integration:
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

args=(-race -tags integration -count=1 -timeout "${BINLAKE_TEST_TIMEOUT:-60m}" -p "${BINLAKE_TEST_P:-2}" -json)
if [[ -n "${BINLAKE_TEST_RUN:-}" ]]; then args+=(-run "$BINLAKE_TEST_RUN"); fi
read -r -a pkgs <<<"${BINLAKE_TEST_PKGS:-./...}"

start=$SECONDS
set +e
go test "${args[@]}" "${pkgs[@]}" 2>&1 | tee "$json" | python3 -u -c '
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
print("%d passed, %d failed, %d skipped (%d packages failed)" % (counts["pass"], counts["fail"], counts["skip"], len(failed_pkgs)))
sys.exit(1 if counts["fail"] or failed_pkgs else 0)
'
status=("${PIPESTATUS[@]}")
set -e
echo "run-tests: go test exited ${status[0]}; $((SECONDS - start))s; JSON in $json"
if [[ ${status[0]} -ne 0 || ${status[2]} -ne 0 ]]; then exit 1; fi
