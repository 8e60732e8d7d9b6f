#!/usr/bin/env bash
# The README's test command runs this (via `make test`) after the images and the Python venv are ready: the whole suite,
# unit and integration, on real servers, with the race detector; it ends with a "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="${BINLAKE_CACHE:-$HOME/.cache/binlake}"
export TESTCONTAINERS_HOST_OVERRIDE="${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1}"
export TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}"
export BINLAKE_PYTHON="${BINLAKE_PYTHON:-$cache/venv/bin/python}"
tools="$cache/bin"
if [ ! -x "$tools/gotestsum" ]; then
  GOBIN="$tools" go install gotest.tools/gotestsum@v1.13.0
fi
json="$(mktemp -t binlake-test-XXXXXX.json)"
status=0
# -p 2: two test binaries at a time on the 2-core machine; each package shares its servers between its tests.
"$tools/gotestsum" --format pkgname-and-test-fails --jsonfile "$json" -- \
  -race -count=1 -p 2 -timeout 50m -tags integration ./... || status=$?
python3 - "$json" <<'PY'
import json, sys
res = {}
for line in open(sys.argv[1]):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    if ev.get("Test") and ev.get("Action") in ("pass", "fail", "skip"):
        res[(ev["Package"], ev["Test"])] = ev["Action"]
n = {a: sum(1 for v in res.values() if v == a) for a in ("pass", "fail", "skip")}
for (pkg, test), a in sorted(res.items()):
    if a == "fail":
        print(f"FAILED: {pkg} {test}")
print(f"{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped")
PY
exit "$status"
