#!/usr/bin/env bash
# Creates the Python venv with the independent lake readers the integration suite uses
# (integration/requirements.txt: pyiceberg, hudi) at ${BINLAKE_CACHE:-~/.cache/binlake}/venv.
# Idempotent: reinstalls only when requirements.txt changed. The tests find the interpreter
# through BINLAKE_PYTHON (the Makefile exports $BINLAKE_CACHE/venv/bin/python).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${BINLAKE_CACHE:-$HOME/.cache/binlake}"
VENV="$CACHE/venv"
REQ="$ROOT/integration/requirements.txt"
PYTHON="${PYTHON:-python3}"

log() { printf '[setup-python] %s\n' "$*" >&2; }

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
stamp="$VENV/.binlake-requirements.sha256"
if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
	log "venv $VENV is up to date"
	exit 0
fi
start=$SECONDS
if [[ ! -x "$VENV/bin/python" ]]; then
	log "creating $VENV with $("$PYTHON" --version 2>&1)"
	"$PYTHON" -m venv "$VENV"
fi
log "installing $(grep -vcE '^\s*(#|$)' "$REQ") requirements from PyPI"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
echo "$want" >"$stamp"
log "done in $((SECONDS - start))s"
