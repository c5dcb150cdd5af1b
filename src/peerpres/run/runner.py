"""The parent of a run: checks, splits the sweep over worker processes, shows progress per model, summarises.

Every worker runs Inspect's ``eval_set`` on a disjoint part of the units into the same log dir (with
``log_dir_allow_dirty``: the other workers' logs belong to the same sweep). Units do not depend on the number of
workers, so a re-run with any ``--workers``/``--shard`` pairs each unit with its existing log and completes only
what is missing. Ctrl-C reaches the workers (same process group); Inspect writes their logs as cancelled, and
the same command resumes them.

Nothing of a run's settings is written to disk outside the log dir: each worker gets its spec (model args,
``-M api_key=...`` included) through a pipe on its stdin. Workers die with the parent: each sets
``PR_SET_PDEATHSIG`` (SIGTERM, handled like Ctrl-C) and exits by itself if it is orphaned anyway. The parent
holds an exclusive ``flock`` on ``<log dir>/.peerpres-run.lock`` (which names its PID and its workers'); the
workers inherit the locked descriptor, so the lock stays taken until the last of them has exited, and a
second run on the same log dir refuses to start meanwhile (``RunLockedError``).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .sweep import Sweep, SweepError, Unit, partition


@dataclass
class RunOptions:
    log_dir: str
    workers: int = 1
    shard: tuple[int, int] = (0, 1)
    model_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    model_roles: dict[str, str] = field(default_factory=dict)
    eval_options: dict[str, Any] = field(default_factory=dict)
    adaptive: dict[str, Any] | None = None
    prices: dict[str, Any] = field(default_factory=dict)
    max_tasks: int | None = None
    # scorer overrides of the judge: judge_timeout (seconds per grader call), max_retries
    judge: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    success: bool
    interrupted: bool
    done: dict[str, int]
    log_dir: str


LOCK_NAME = ".peerpres-run.lock"
PARENT_ENV = "PEERPRES_RUN_PARENT"
LOCK_FD_ENV = "PEERPRES_RUN_LOCK_FD"


class RunLockedError(SweepError):
    """Another ``peerpres run`` (or its workers) is still running on the same log dir (raised before any
    worker starts; ``peerpres run`` prints it and exits with status 2)."""


def acquire_lock(log_dir: str) -> int:
    """Take the run lock of ``log_dir`` (exclusive, non-blocking ``flock``); returns its file descriptor
    (inheritable, so workers keep the lock alive). Raises ``RunLockedError`` naming the holder's PIDs."""
    path = Path(log_dir) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        try:
            holder = json.loads(path.read_text() or "{}")
        except (OSError, ValueError):
            holder = {}
        pids = [holder.get("parent"), *holder.get("workers", [])]
        alive = [p for p in pids if isinstance(p, int) and _running(p)]
        raise RunLockedError(
            f"another peerpres run is still running on {log_dir} (parent PID {holder.get('parent', '?')}, "
            f"processes still alive: {alive or 'unknown'}); wait for it to finish or stop it "
            f"(kill {' '.join(map(str, alive)) or '<pid>'}), then re-run to resume."
        ) from None
    os.set_inheritable(fd, True)
    _write_lock(fd, [])
    return fd


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _write_lock(fd: int, workers: list[int]) -> None:
    data = json.dumps({"parent": os.getpid(), "workers": workers}).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def my_units(sweep: Sweep, shard: tuple[int, int]) -> list[Unit]:
    i, n = shard
    return partition(sweep.units, n)[i]


def _spec(units: list[Unit], opts: RunOptions) -> dict[str, Any]:
    eval_options = dict(opts.eval_options)
    if opts.adaptive and "max_samples" not in eval_options and units:
        # Early stopping can only skip epochs not yet scheduled: keep about two rollouts per cell in flight
        # (Inspect schedules epoch by epoch) instead of the whole task at once.
        eval_options["max_samples"] = max(2, 2 * max(len(u.config_ids) for u in units))
    return {
        "units": [asdict(u) | {"config_ids": list(u.config_ids)} for u in units],
        "log_dir": opts.log_dir,
        "model_args": opts.model_args,
        "model_roles": opts.model_roles,
        "eval_options": eval_options,
        "adaptive": opts.adaptive,
        "prices": opts.prices,
        "max_tasks": opts.max_tasks,
        "judge": opts.judge,
        "display": "none",
    }


def run(sweep: Sweep, opts: RunOptions, out: TextIO = sys.stderr, progress_every: float = 5.0) -> RunResult:
    """Run this shard's units in worker processes; raises ``RunLockedError`` (before any worker starts) while
    an earlier run's processes are alive on the same log dir."""
    units = my_units(sweep, opts.shard)
    Path(opts.log_dir).mkdir(parents=True, exist_ok=True)
    lock_fd = acquire_lock(opts.log_dir)
    procs: list[subprocess.Popen[str]] = []
    try:
        return _run_locked(units, opts, out, progress_every, lock_fd, procs)
    finally:
        for p in procs:  # live workers here only if the parent itself failed: do not leave them behind
            if p.poll() is None:
                p.terminate()
        os.close(lock_fd)


def _run_locked(units: list[Unit], opts: RunOptions, out: TextIO, progress_every: float, lock_fd: int,
                procs: list[subprocess.Popen[str]]) -> RunResult:
    # create the eval-set id once, before workers race to create it
    from inspect_ai._eval.evalset import eval_set_id_for_log_dir

    eval_set_id_for_log_dir(opts.log_dir)
    n_workers = max(1, min(opts.workers, len(units)))
    parts = [p for p in partition(units, n_workers) if p]
    total: dict[str, int] = defaultdict(int)
    for u in units:
        total[u.model] += u.samples
    done: dict[str, int] = defaultdict(int)
    tokens: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    env = {**os.environ, "PEERPRES_RUN_PROGRESS": "1", PARENT_ENV: str(os.getpid()), LOCK_FD_ENV: str(lock_fd)}
    out.write(
        f"peerpres run: {sum(total.values())} samples ({len(units)} tasks) in {len(parts)} worker process(es)"
        + (f", shard {opts.shard[0]}/{opts.shard[1]}" if opts.shard[1] > 1 else "")
        + f"; logs: {opts.log_dir}\n"
    )
    if opts.adaptive:
        out.write("adaptive sampling: settled cells stop early, so counts stay below the totals.\n")
    out.flush()

    def reader(p: subprocess.Popen[str]) -> None:
        assert p.stdout is not None
        for line in p.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "sample":
                with lock:
                    done[ev["model"]] += 1
                    tokens[ev["model"]] += int(ev.get("tokens") or 0)

    def feed(p: subprocess.Popen[str], spec: str) -> None:
        assert p.stdin is not None
        try:
            p.stdin.write(spec)
            p.stdin.close()
        except OSError:  # the worker died before reading its spec: its exit code reports it
            pass

    threads = []
    for part in parts:
        p = subprocess.Popen(
            [sys.executable, "-m", "peerpres.run.worker", "-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, pass_fds=(lock_fd,),
        )
        procs.append(p)
        for target, args in ((feed, (p, json.dumps(_spec(part, opts), default=str))), (reader, (p,))):
            t = threading.Thread(target=target, args=args, daemon=True)
            t.start()
            threads.append(t)
    _write_lock(lock_fd, [p.pid for p in procs])
    return _wait(procs, threads, show_every=progress_every, out=out, lock=lock, done=done, tokens=tokens,
                 total=total, log_dir=opts.log_dir)


def _wait(procs: list[subprocess.Popen[str]], threads: list[threading.Thread], *, show_every: float, out: TextIO,
          lock: threading.Lock, done: dict[str, int], tokens: dict[str, int], total: dict[str, int],
          log_dir: str) -> RunResult:
    progress_every = show_every

    def show() -> None:
        with lock:
            started = any(done.values())
            line = "  ".join(f"{m}: {done[m]}/{total[m]} ({tokens[m]:,} tok)" for m in sorted(total))
        if not started and any(p.poll() is None for p in procs):
            # until the first sample ends, workers are importing Inspect, building tasks and reading old logs
            line = f"{len(procs)} worker(s) starting: loading Inspect and the tasks, resuming from existing logs"
        out.write(f"[{time.strftime('%H:%M:%S')}] new samples this run — {line}\n")
        out.flush()

    interrupted = False
    last = time.monotonic()
    try:
        while any(p.poll() is None for p in procs):
            time.sleep(0.2)
            if time.monotonic() - last >= progress_every:
                show()
                last = time.monotonic()
    except KeyboardInterrupt:
        interrupted = True
        out.write("\ninterrupted: waiting for the workers to write their logs (re-run the same command to resume)...\n")
        out.flush()
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.terminate()
    for t in threads:
        t.join(timeout=5)
    show()
    codes = [p.returncode for p in procs]
    interrupted = interrupted or any(c in (130, -2) for c in codes)
    return RunResult(success=all(c == 0 for c in codes), interrupted=interrupted, done=dict(done), log_dir=log_dir)
