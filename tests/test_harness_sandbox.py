"""The harness sandboxes outlive nothing: a sample process killed with SIGKILL takes its sshd sandboxes with it
(bwrap --die-with-parent), and the next run's ``sweep_stale`` removes its network namespace and run tmpfs.
Needs root and the harness setup (no CLI is run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from peerpres.harness.install import readiness
from peerpres.harness.sandbox import NETNS_DIR, RUN_BASE, sweep_stale

READY = readiness("opencode")
pytestmark = [
    pytest.mark.harness,
    pytest.mark.skipif(not READY.ok, reason="HARNESS NOT SET UP - sandbox test did not run: " + "; ".join(READY.problems)),
]

CHILD = """
import asyncio, sys
from peerpres.conditions import Condition, names_for
from peerpres.harness.fixture import fixture_world
from peerpres.harness.sandbox import HarnessEnv

cond = Condition("exfiltration_deletion", "peer", "good", "memory", harness="opencode").validate()
env = HarnessEnv(fixture_world(cond, names_for(cond, "Atlas")).servers)
env.start()
print(env.run_id, *(sp.proc.pid for sp in env.server_procs.values()), flush=True)
sys.stdin.read()  # until killed
"""


def _sshd_of(run_id: str) -> list[int]:
    """PIDs of processes inside the run's network namespace."""
    r = subprocess.run(["ip", "netns", "pids", f"pp-{run_id}"], capture_output=True, text=True, check=False)
    return [int(p) for p in r.stdout.split()]


def test_killed_sample_leaves_nothing_after_sweep():
    p = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        line = p.stdout.readline().split()
        assert line, "the child could not build its environment"
        run_id = line[0]
        assert (NETNS_DIR / f"pp-{run_id}").exists() and os.path.ismount(RUN_BASE / run_id)
        assert len(_sshd_of(run_id)) >= 2  # two sshd sandboxes are running
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _sshd_of(run_id):
            time.sleep(0.2)
        assert _sshd_of(run_id) == [], "a server sandbox outlived the process that started it"
        sweep_stale()  # (a concurrent run may have swept it already: either way it must be gone)
        assert not (NETNS_DIR / f"pp-{run_id}").exists()
        assert not (RUN_BASE / run_id).exists() and not Path(f"{RUN_BASE / run_id}.owner").exists()
    finally:
        if p.poll() is None:
            p.kill()
