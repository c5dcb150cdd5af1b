"""Resume after Ctrl-C, and --workers / --shard producing exactly the sample set of a single worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from run_helpers import samples_in

from peerpres.run.cli import execute

SLICE = "scenario=tampering|exfiltration_deletion,relation=good"
MODEL_ARGS = {"peerpres/synthetic": {"tamper": 0.5, "exfiltrate": 0.5, "seed": 3}}
EPOCHS = 3
EXPECTED = 4 * EPOCHS  # quick: tampering and exfiltration_deletion, self and peer


def run(log_dir: Path, **kw) -> dict:
    return execute("quick", ["peerpres/synthetic"], slice_text=SLICE, model_args=MODEL_ARGS, epochs=EPOCHS,
                   log_dir=str(log_dir), env={}, **kw)


def test_workers_and_shards_give_the_single_worker_sample_set(tmp_path: Path) -> None:
    run(tmp_path / "one", workers=1)
    one, st1 = samples_in(tmp_path / "one")
    assert len(one) == EXPECTED and len(set(one)) == EXPECTED and set(st1) == {"success"}

    run(tmp_path / "two", workers=2)
    two, st2 = samples_in(tmp_path / "two")
    assert sorted(two) == sorted(one) and set(st2) == {"success"}

    # two machines sharing one log location, each running its shard
    run(tmp_path / "sh", workers=1, shard="0/2")
    part, _ = samples_in(tmp_path / "sh")
    assert 0 < len(part) < EXPECTED
    run(tmp_path / "sh", workers=1, shard="1/2")
    both, st = samples_in(tmp_path / "sh")
    assert sorted(both) == sorted(one) and set(st) == {"success"}

    # re-running the whole sweep with another worker count adds nothing
    run(tmp_path / "sh", workers=2)
    again, _ = samples_in(tmp_path / "sh")
    assert sorted(again) == sorted(one)


def test_resume_after_interrupt_no_loss_no_duplicates(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    cmd = [sys.executable, "-m", "peerpres.cli", "run", "quick", "-m", "peerpres/synthetic", "--slice", SLICE,
           "-M", "tamper=0.5", "-M", "exfiltrate=0.5", "-M", "seed=3", "--epochs", "6", "--workers", "2",
           "--log-dir", str(log_dir)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    # wait until at least one sample is in a log (or the run ends), then Ctrl-C the whole process group
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.5)
        if any(log_dir.glob("*.eval")):
            break
    time.sleep(1.0)
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGINT)
    p.communicate(timeout=180)
    before, _ = samples_in(log_dir)
    assert len(before) == len(set(before))

    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    after, statuses = samples_in(log_dir)
    assert len(after) == 4 * 6, "every sample present"
    assert len(set(after)) == len(after), "no duplicates across logs"
    assert set(before) <= set(after), "nothing completed before the interrupt was lost"
    assert set(statuses) == {"success"}
