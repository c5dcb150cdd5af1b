"""Where the pinned agent CLIs live and whether this machine can run a harness study.

``scripts/setup_harness.sh`` installs everything; this module only looks.
"""

from __future__ import annotations

import ctypes.util
import functools
import importlib.util
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Pinned versions (kept in step with scripts/setup_harness.sh).
VERSIONS = {"gemini-cli": "0.61.0", "opencode": "1.18.33", "claude-code": "2.1.330", "codex": "0.169.0"}
NPM_PACKAGES = {"gemini-cli": "@google/gemini-cli", "opencode": "opencode-ai", "claude-code": "@anthropic-ai/claude-code",
                "codex": "@openai/codex"}
BINARIES = {"gemini-cli": "gemini", "opencode": "opencode", "claude-code": "claude", "codex": "codex"}
# The Python package Inspect's bridge converter for each CLI's wire format needs (module, pip requirement).
CONVERTER_PACKAGES = {"gemini-cli": ("google.genai", "google-genai"), "opencode": ("openai", "openai"),
                      "claude-code": ("anthropic", "anthropic>=2.0"), "codex": ("openai", "openai")}

AGENT_USER = "ppagent"
SERVER_USER = "maintainer"


def prefix() -> Path:
    """The project-local npm prefix (``.harness`` at the repository root unless PEERPRES_HARNESS_PREFIX)."""
    env = os.environ.get("PEERPRES_HARNESS_PREFIX")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / ".harness"


def cli_path(cli: str) -> Path:
    return prefix() / "node_modules" / ".bin" / BINARIES[cli]


@functools.lru_cache(maxsize=1)
def unprivileged_bwrap_problem() -> str | None:
    """Why the agent's sandbox cannot be built here (bwrap run by the agent user needs an unprivileged user
    namespace; e.g. Ubuntu's ``kernel.apparmor_restrict_unprivileged_userns`` forbids it), or None."""
    try:
        a = pwd.getpwnam(AGENT_USER)
    except KeyError:
        return None  # reported as a missing user
    argv = ["setpriv", f"--reuid={a.pw_uid}", f"--regid={a.pw_gid}", "--clear-groups", "--", "bwrap",
            "--unshare-user", "--unshare-pid", "--disable-userns", "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--proc", "/proc", "--", "/bin/true"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bwrap as {AGENT_USER} failed: {e}"
    if r.returncode != 0:
        return (f"bwrap as {AGENT_USER} failed ({r.stderr.strip()[-300:]}): the kernel must allow unprivileged "
                "user namespaces (e.g. sysctl kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu)")
    return None


@dataclass(frozen=True)
class Readiness:
    ok: bool
    problems: tuple[str, ...]


def readiness(cli: str | None = None) -> Readiness:
    """Everything a harness run needs; each missing piece is named."""
    problems: list[str] = []
    if os.geteuid() != 0:
        problems.append("harness runs need root (network namespaces, sshd, switching to the agent user)")
    for tool in ("ip", "bwrap", "setpriv", "ssh", "ssh-keygen", "tar", "nsenter"):
        if shutil.which(tool) is None:
            problems.append(f"{tool} not found")
    if os.geteuid() == 0 and shutil.which("bwrap") and shutil.which("setpriv"):
        problem = unprivileged_bwrap_problem()
        if problem:
            problems.append(problem)
    if ctypes.util.find_library("seccomp") is None:
        problems.append("libseccomp not found (Debian libseccomp2; the servers' seccomp filter)")
    if not Path("/usr/sbin/sshd").exists():
        problems.append("/usr/sbin/sshd missing (openssh-server)")
    for user in (AGENT_USER, SERVER_USER):
        try:
            pwd.getpwnam(user)
        except KeyError:
            problems.append(f"system user {user!r} missing")
    for c in [cli] if cli else list(VERSIONS):
        if c not in VERSIONS:
            problems.append(f"unknown harness {c!r}; supported: {', '.join(VERSIONS)}")
            continue
        pj = prefix() / "node_modules" / NPM_PACKAGES[c] / "package.json"
        if not cli_path(c).exists() or not pj.exists():
            problems.append(f"{c} not installed under {prefix()}")
        module, requirement = CONVERTER_PACKAGES[c]
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            problems.append(f"Python package {requirement!r} missing (Inspect's bridge converter for {c})")
    if problems:
        problems.append("run scripts/setup_harness.sh as root")
    return Readiness(not problems, tuple(problems))
