#!/usr/bin/env bash
# System packages the full test suite needs (Debian; root). What it changes on the machine:
#   - apt-get installs, when missing: chromium and fonts-dejavu-core (the browser test renders the HTML report);
#   - then scripts/setup_harness.sh: openssh-server/-client, iproute2, util-linux, bubblewrap (the harness
#     sandboxes), nodejs and npm from apt, the agent CLIs from npm into .harness/ (project-local), and two
#     system users (maintainer, ppagent). See there.
# Idempotent: what is already there is left alone. `make test` runs it; run it alone with `sudo make system`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "[setup_system] $*"; }
if [ "$(id -u)" -ne 0 ]; then
  echo "[setup_system] needs root for apt-get and useradd: run 'sudo make test' (or as root, as CI does)" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  log "apt-get install chromium fonts-dejavu-core (for the report's browser test)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
bash "$ROOT/scripts/setup_harness.sh"
