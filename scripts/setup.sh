#!/usr/bin/env bash
# Python environment for peerpres: a project-local venv with the package and its test dependencies.
# What it changes: only .venv/ in the repository (pip downloads from PyPI); no root needed.
# Needs Python >= 3.11 with venv (Debian: apt-get install python3 python3-venv).
# Idempotent: re-running only installs what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  if ! command -v "$PY" >/dev/null 2>&1; then
    echo "[setup] $PY not found: install Python >= 3.11 (Debian: sudo apt-get install python3 python3-venv)" >&2
    exit 1
  fi
  if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "[setup] $($PY --version) is too old: peerpres needs Python >= 3.11 (set PYTHON=python3.12 to pick one)" >&2
    exit 1
  fi
  echo "[setup] creating .venv with $($PY --version)"
  if ! "$PY" -m venv .venv; then
    rm -rf .venv
    echo "[setup] could not create a venv: install the venv module (Debian: sudo apt-get install python3-venv)" >&2
    exit 1
  fi
fi
stamp=.venv/.peerpres-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "[setup] installing peerpres and its dependencies into .venv (first time: about a minute)"
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install -q -e ".[test,dev]" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import peerpres, inspect_ai" # fail loudly if the install did not work
  touch "$stamp"
fi
echo "[setup] ready: $ROOT/.venv/bin/peerpres  (put it on PATH with: source .venv/bin/activate)"
