#!/usr/bin/env bash
# Python environment for peerpres: a project-local venv with the package and its test dependencies.
# Idempotent: re-running only installs what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.peerpres-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "[setup] installing peerpres and its dependencies into .venv (first time: about a minute)"
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install -q -e ".[test,dev]" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import peerpres, inspect_ai" # fail loudly if the install did not work
  touch "$stamp"
fi
echo "[setup] ready: $ROOT/.venv/bin/peerpres"
