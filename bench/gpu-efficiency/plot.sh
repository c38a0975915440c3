#!/usr/bin/env bash
# Draws docs/gpu-efficiency.png from bench/results/gpu-efficiency.json with matplotlib, in a venv
# of its own (cached next to the other tools; not part of CI).
#   bench/gpu-efficiency/plot.sh [results.json] [out.png]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/elastic-jupyter/bench-plot-venv"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'matplotlib==3.10.*'
fi
"$venv/bin/python" "$here/plot.py" "${1:-$root/bench/results/gpu-efficiency.json}" "${2:-$root/docs/gpu-efficiency.png}"
