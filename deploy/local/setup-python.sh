#!/usr/bin/env bash
# Creates the Python venv with the independent lake readers the integration suite uses (pyiceberg, hudi-rs), from PyPI.
# Rebuilt only when integration/requirements.txt changes.
set -euo pipefail
cache="${BINLAKE_CACHE:-$HOME/.cache/binlake}"
venv="$cache/venv"
req="$(cd "$(dirname "$0")/../.." && pwd)/integration/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "python venv up to date: $venv"
  exit 0
fi
echo "creating python venv $venv from $req"
python3 -m venv --clear "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
"$venv/bin/python" -c 'import pyiceberg, hudi; print("pyiceberg", pyiceberg.__version__)'
