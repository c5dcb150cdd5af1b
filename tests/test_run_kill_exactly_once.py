"""Two hard kills (SIGKILL to the whole process group) at different points, re-runs, then completion: the frame,
the run summary and the report count every sample exactly once, n = the dry run's count."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import inspect_ai._util.zipfile  # noqa: F401  (zstd members, as Inspect writes them)
import pytest

from peerpres.analysis.frame import load_frame

SLICE = "scenario=tampering|exfiltration_deletion,relation=good"  # 4 configs: self and peer subject each
EPOCHS = 100  # 4 tasks x 100 epochs: Inspect flushes every 10 samples, so a kill finds flushed, unfinished logs
# (40 was too few on a quiet machine: the re-run after the first kill finished before the second kill point)
CMD = [sys.executable, "-m", "peerpres.cli", "run", "quick", "-m", "peerpres/synthetic", "--slice", SLICE,
       "-M", "tamper=0.5", "-M", "exfiltrate=0.5", "-M", "seed=5", "--epochs", str(EPOCHS), "--workers", "2"]


def flushed(log_dir: Path) -> tuple[int, int]:
    """(sample entries in all .eval files, logs without a final header) right now."""
    samples = unfinished = 0
    for f in log_dir.glob("*.eval"):
        try:
            with zipfile.ZipFile(f) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError):  # being replaced this instant
            continue
        samples += sum(1 for n in names if n.startswith("samples/"))
        unfinished += "header.json" not in names
    return samples, unfinished


def run_and_kill(log_dir: Path, more_than: int, timeout: float = 600) -> int:
    """Start the run; SIGKILL its process group once more than ``more_than`` samples are flushed and a log is
    still unfinished. Returns the flushed count at the kill."""
    p = subprocess.Popen([*CMD, "--log-dir", str(log_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    deadline = time.monotonic() + timeout
    n = 0
    try:
        while time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.2)
            n, unfinished = flushed(log_dir)
            if n > more_than and unfinished:
                break
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL, "the run ended before it could be killed: raise EPOCHS"
    return n


def dry_run_count() -> int:
    r = subprocess.run([*CMD, "--dry-run"], check=False, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "COLUMNS": "250"})
    assert r.returncode == 0, r.stdout + r.stderr
    row = next(line for line in r.stdout.splitlines() if "peerpres/synthetic" in line)
    cells = [c.strip() for c in re.split(r"[│|]", row) if c.strip()]
    return int(cells[3].replace(",", ""))  # model, configs, epochs, samples, ...


@pytest.mark.slow
def test_two_hard_kills_and_reruns_count_each_sample_once(tmp_path):
    expected = dry_run_count()
    assert expected == 4 * EPOCHS
    log_dir = tmp_path / "logs"
    first = run_and_kill(log_dir, more_than=0)
    second = run_and_kill(log_dir, more_than=first + 10)  # a later point: after the re-run flushed new samples
    assert second > first

    r = subprocess.run([*CMD, "--log-dir", str(log_dir)], check=False, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

    df, inv = load_frame(log_dir)
    # the folder really holds the stale attempts: pooling every log would overcount
    assert sum(e.samples for e in inv.read) > expected and inv.samples_superseded > 0
    assert any(not e.finished for e in inv.read)
    assert len(df) == expected
    assert not df.duplicated(["model", "task_identity", "sample_id", "epoch"]).any()
    assert not df["from_unfinished"].any()  # completed: every sample comes from a finished log
    for _, g in df.groupby("config_id"):
        assert sorted(g["epoch"]) == list(range(1, EPOCHS + 1))
    assert df.groupby("scenario").size().to_dict() == {"tampering": 2 * EPOCHS, "exfiltration_deletion": 2 * EPOCHS}

    # the run summary uses the same frame
    summary = json.loads((log_dir / "peerpres-run-summary.json").read_text())
    assert [m["samples"] for m in summary["models"]] == [expected]
    assert all(c["samples"] == EPOCHS for c in summary["cells"])

    # the fast read and Inspect's own read agree on these real, partly unfinished logs
    full, inv_full = load_frame(log_dir, fast=False)
    key = ["log_file", "sample_id", "epoch"]
    import pandas as pd

    pd.testing.assert_frame_equal(
        df.sort_values(key).reset_index(drop=True), full.sort_values(key).reset_index(drop=True)
    )
    assert inv.to_dict() == inv_full.to_dict()

    # and the report lists the logs it read with their status
    out = tmp_path / "rep"
    r = subprocess.run([sys.executable, "-m", "peerpres.cli", "report", str(log_dir), "--out", str(out)], check=False,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads((out / "results.json").read_text())
    assert data["provenance"]["n_samples"] == expected
    statuses = {e["status"] for e in data["logs"]["read"]}
    assert "success" in statuses and statuses - {"success"}
    assert data["logs"]["samples_used"] == expected
