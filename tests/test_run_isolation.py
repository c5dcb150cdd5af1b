"""``peerpres run`` leaves no secrets and no processes behind (issue 9).

- no ``peerpres-run-*`` folder is left in the temp dir after a finished, a failed and an interrupted run;
- a fake ``-M api_key=...`` and a fake provider key in the environment appear nowhere in what a run writes
  (log dir with every log decompressed, report, temp dir, Inspect's data dir);
- a second run on the same log dir refuses to start while the first one's workers live, and hard-killing
  the parent (SIGKILL) takes its workers with it.

Every run is a real ``peerpres run`` process with its own TMPDIR and XDG_DATA_HOME under the test's folder.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from peerpres.run import runner

pytestmark = pytest.mark.slow
SLICE = "scenario=tampering|exfiltration_deletion"


def _env(base: Path, **extra: str) -> dict[str, str]:
    (base / "tmp").mkdir(parents=True, exist_ok=True)
    (base / "xdg").mkdir(parents=True, exist_ok=True)
    return {**os.environ, "TMPDIR": str(base / "tmp"), "XDG_DATA_HOME": str(base / "xdg"), **extra}


def _cmd(log_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "peerpres.cli", "run", "quick", "--slice", SLICE, "--log-dir", str(log_dir), *args]


def _no_spec_folders(base: Path) -> None:
    assert not list((base / "tmp").glob("peerpres-run-*")), "a worker spec folder was left behind"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def _wait_for_workers(log_dir: Path, p: subprocess.Popen, timeout: float = 120) -> list[int]:
    """The worker PIDs (from the run lock) once a first log exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None:
        try:
            workers = json.loads((log_dir / runner.LOCK_NAME).read_text() or "{}").get("workers", [])
        except (OSError, ValueError):
            workers = []
        if workers and any(log_dir.glob("*.eval")):
            return workers
        time.sleep(0.5)
    raise AssertionError(f"the run did not start its workers (rc={p.poll()})")


def test_finished_run_leaves_no_spec_folder(tmp_path: Path) -> None:
    r = subprocess.run(_cmd(tmp_path / "logs", "-m", "peerpres/synthetic", "-M", "seed=3", "--epochs", "1",
                            "--workers", "2"),
                       env=_env(tmp_path), check=False, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "some tasks did not complete" not in " ".join((r.stdout + r.stderr).split())
    _no_spec_folders(tmp_path)


def test_failed_run_leaves_no_secret_and_no_spec_folder(tmp_path: Path) -> None:
    """mockllm cannot play the tasks, so every sample errors: a failed run, with a fake key as a model arg and
    another in the environment. Neither appears in anything written."""
    tag = uuid.uuid4().hex
    arg_key, env_key = f"sk-FAKE-ARG-{tag}", f"sk-FAKE-ENV-{tag}"
    rep = tmp_path / "report"
    r = subprocess.run(
        _cmd(tmp_path / "logs", "-m", "mockllm/model", "-M", f"api_key={arg_key}", "--epochs", "1", "--workers", "2",
             "--retry-attempts", "0", "--report", str(rep)),
        env=_env(tmp_path, OPENAI_API_KEY=env_key, ANTHROPIC_API_KEY=env_key), capture_output=True, text=True,
        timeout=600, check=False,
    )
    said = " ".join((r.stdout + r.stderr).split())  # rich wraps long lines
    assert r.returncode == 1 and "some tasks did not complete" in said, said  # it did fail
    _no_spec_folders(tmp_path)
    logs = list((tmp_path / "logs").glob("*.eval"))
    assert logs, "the failed run wrote its logs"
    seen = 0
    for p in tmp_path.rglob("*"):
        if not p.is_file():
            continue
        blobs = [p.read_bytes()]
        if p.suffix == ".eval":
            blobs.append(read_eval_log(str(p)).model_dump_json().encode())
        elif p.suffix == ".gz":
            blobs.append(gzip.decompress(blobs[0]))
        for b in blobs:
            assert arg_key.encode() not in b and env_key.encode() not in b, f"a fake key was written to {p}"
        seen += 1
    assert seen > len(logs)  # logs, the lock, summaries, the report, Inspect's traces were all looked at
    assert arg_key not in r.stdout + r.stderr and env_key not in r.stdout + r.stderr


def test_interrupted_run_leaves_no_spec_folder(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    p = subprocess.Popen(_cmd(log_dir, "-m", "peerpres/synthetic", "-M", "seed=3", "--epochs", "8", "--workers", "2"),
                         env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    workers = _wait_for_workers(log_dir, p)
    os.killpg(p.pid, signal.SIGINT)
    out, _ = p.communicate(timeout=180)
    assert "interrupted" in out, out
    assert not any(_alive(w) for w in workers)
    _no_spec_folders(tmp_path)


def test_second_run_refused_and_hard_killed_parent_takes_its_workers(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    cmd = _cmd(log_dir, "-m", "peerpres/synthetic", "-M", "seed=3", "--epochs", "20", "--workers", "2")
    p = subprocess.Popen(cmd, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        workers = _wait_for_workers(log_dir, p)
        assert len(workers) == 2 and all(_alive(w) for w in workers)
        second = subprocess.run(cmd, check=False, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
        assert second.returncode == 2, second.stdout + second.stderr
        said = " ".join((second.stdout + second.stderr).split())
        assert "another peerpres run is still running" in said and str(p.pid) in said, said
        os.kill(p.pid, signal.SIGKILL)  # the parent only, as an OOM kill or `kill -9` would
        p.wait(timeout=10)
        # every worker exits (the kernel signals them; a watchdog backs that up), and with the last of them the
        # run lock goes: a new run may start
        deadline = time.monotonic() + 90
        lock = None
        while time.monotonic() < deadline and lock is None:
            time.sleep(0.5)
            if any(_alive(w) for w in workers):
                continue
            try:
                lock = runner.acquire_lock(str(log_dir))
            except runner.RunLockedError:
                pass
        assert not [w for w in workers if _alive(w)], "a worker survived its parent"
        assert lock is not None, "the run lock is still held after every worker exited"
        lock.close()
    finally:
        for w in [p.pid, *locals().get("workers", [])]:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
    _no_spec_folders(tmp_path)


def test_lock_semantics_unsharded_and_shards(tmp_path: Path) -> None:
    """In-process (flock conflicts between separate opens): one unsharded run at a time; shards of one sweep
    side by side, never the same shard twice, never a sharded next to an unsharded run."""
    d = str(tmp_path)
    whole = runner.acquire_lock(d)
    with pytest.raises(runner.RunLockedError, match=f"parent PID {os.getpid()}"):
        runner.acquire_lock(d)
    with pytest.raises(runner.RunLockedError):
        runner.acquire_lock(d, (0, 2))
    whole.close()
    first, second = runner.acquire_lock(d, (0, 2)), runner.acquire_lock(d, (1, 2))
    with pytest.raises(runner.RunLockedError):
        runner.acquire_lock(d, (1, 2))
    with pytest.raises(runner.RunLockedError, match="another peerpres run is still running"):
        runner.acquire_lock(d)
    first.close()
    second.close()
    runner.acquire_lock(d).close()  # all released
