#!/usr/bin/env bash
# Install what the production-harness mode needs (idempotent; safe to re-run; CI calls it). What it changes:
#   - apt-get installs, when missing: openssh-server and openssh-client (real sshd servers), iproute2 and
#     util-linux (netns, nsenter, setpriv), nodejs and npm (the agent CLIs; Node >= 20 is needed),
#     bubblewrap (the agent's and the servers' sandboxes), libseccomp2 (the servers' seccomp filter).
#     Where systemd runs, Debian's openssh-server package enables and starts a system sshd on port 22;
#     peerpres never uses it (it starts its own sshd instances in private network namespaces), so stop it
#     with `systemctl disable --now ssh` if you do not want it.
#   - npm: the agent CLIs at pinned versions, into the project-local prefix .harness/ (nothing global).
#   - two system users without login password or home directory: `maintainer` (owns the servers' data) and
#     `ppagent` (runs the agent CLI); remove them with `userdel maintainer; userdel ppagent`.
#   - creates /run/sshd (sshd's privilege-separation directory).
# Needs root (apt, useradd). Nothing here touches the network except apt and npm.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${PEERPRES_HARNESS_PREFIX:-$ROOT/.harness}"
GEMINI_CLI_VERSION="0.61.0"
OPENCODE_VERSION="1.18.33"
# Claude Code's npm package is a wrapper whose postinstall puts the native binary (optional dependency
# @anthropic-ai/claude-code-linux-x64) in place of bin/claude.exe; it needs no Node.js at run time.
CLAUDE_CODE_VERSION="2.1.330"
# Codex CLI: a Node launcher (bin/codex.js) for the native binary in @openai/codex-linux-x64.
CODEX_VERSION="0.169.0"

log() { echo "[setup_harness] $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "[setup_harness] must run as root (apt-get, useradd, network namespaces)" >&2
  exit 1
fi

need_apt=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need_apt+=(openssh-client)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v setpriv >/dev/null 2>&1 || need_apt+=(util-linux)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
ldconfig -p | grep -q 'libseccomp\.so' || need_apt+=(libseccomp2)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# Debian's package starts a system sshd on :22 where systemd runs; we use our own instances only.
mkdir -p /run/sshd
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "[setup_harness] Node.js $(node --version) is too old: the agent CLIs need Node >= 20 (Debian 13 ships 20;" \
       "on Debian 12 install Node 20 from nodejs.org or NodeSource), then re-run." >&2
  exit 1
fi

for u in maintainer ppagent; do
  if ! getent passwd "$u" >/dev/null; then
    log "adding system user $u"
    # Homes exist only inside private mount namespaces: /srv/home on each server, /tmp/home for the agent
    # (OpenSSH finds ~/.ssh through the passwd entry, not $HOME).
    home=/tmp/home; shell=/bin/bash
    if [ "$u" = maintainer ]; then home=/srv/home; fi
    useradd --system --no-create-home --home-dir "$home" --shell "$shell" --user-group "$u"
  fi
done
usermod -d /srv/home maintainer; usermod -d /tmp/home ppagent
# sshd refuses accounts that are locked ("!" in shadow); key-only login needs an unlocked, password-less account.
usermod -p '*' maintainer

mkdir -p "$PREFIX"
want() { # package version -> 0 if installed at that version
  local pj="$PREFIX/node_modules/$1/package.json"
  [ -f "$pj" ] && node -e "process.exit(require('$pj').version==='$2'?0:1)"
}
if ! want @google/gemini-cli "$GEMINI_CLI_VERSION" || ! want opencode-ai "$OPENCODE_VERSION" \
   || ! want @anthropic-ai/claude-code "$CLAUDE_CODE_VERSION" || ! want @openai/codex "$CODEX_VERSION"; then
  log "npm install @google/gemini-cli@$GEMINI_CLI_VERSION opencode-ai@$OPENCODE_VERSION" \
      "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION @openai/codex@$CODEX_VERSION into $PREFIX"
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
    "@google/gemini-cli@$GEMINI_CLI_VERSION" "opencode-ai@$OPENCODE_VERSION" \
    "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" "@openai/codex@$CODEX_VERSION" >/dev/null
fi
# The agent user must be able to execute the CLIs.
chmod -R o+rX "$PREFIX/node_modules" "$PREFIX/package.json" 2>/dev/null || true
chmod o+x "$PREFIX"

# The agent's sandbox is bubblewrap started by the agent user: it needs unprivileged user namespaces.
if ! setpriv --reuid=ppagent --regid=ppagent --clear-groups -- bwrap --unshare-user --unshare-pid \
     --disable-userns --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \
     --symlink usr/lib64 /lib64 --proc /proc -- /bin/true; then
  echo "[setup_harness] bwrap cannot make a user namespace as ppagent: allow unprivileged user namespaces" \
       "(e.g. Ubuntu: sysctl kernel.apparmor_restrict_unprivileged_userns=0; others: kernel.unprivileged_userns_clone=1)" >&2
  exit 1
fi

"$PREFIX/node_modules/.bin/gemini" --version >/dev/null
"$PREFIX/node_modules/.bin/opencode" --version >/dev/null
DISABLE_AUTOUPDATER=1 "$PREFIX/node_modules/.bin/claude" --version >/dev/null
"$PREFIX/node_modules/.bin/codex" --version >/dev/null
log "ok: gemini-cli $GEMINI_CLI_VERSION, opencode $OPENCODE_VERSION, claude-code $CLAUDE_CODE_VERSION," \
    "codex $CODEX_VERSION in $PREFIX; sshd $(dpkg-query -W -f='${Version}' openssh-server)"
