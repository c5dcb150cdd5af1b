#!/usr/bin/env bash
# System packages the full test suite needs (root; Debian):
#   - chromium: renders the HTML report in the browser test;
#   - the production-harness stack (sshd, agent CLIs from npm): scripts/setup_harness.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "[setup_system] needs root for apt-get; run it as root (CI does)" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "[setup_system] apt-get install chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
bash "$ROOT/scripts/setup_harness.sh"
