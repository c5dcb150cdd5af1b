"""The parent of a run: checks, splits the sweep over worker processes, shows progress per model, summarises.

Every worker runs Inspect's ``eval_set`` on a disjoint part of the units into the same log dir (with
``log_dir_allow_dirty``: the other workers' logs belong to the same sweep). Units do not depend on the number of
workers, so a re-run with any ``--workers``/``--shard`` pairs each unit with its existing log and completes only
what is missing. Ctrl-C reaches the workers (same process group); Inspect writes their logs as cancelled, and
the same command resumes them.

Nothing of a run's settings is written to disk outside the log dir: each worker gets its spec (model args,
``-M api_key=...`` included) through a pipe on its stdin. Workers die with the parent: each sets
``PR_SET_PDEATHSIG`` (SIGTERM, handled like Ctrl-C) and exits by itself if it is orphaned anyway. The parent
holds a ``flock`` on ``<log dir>/.peerpres-run.lock`` (exclusive; shared plus an exclusive per-shard lock
when sharded; the lock file names its PID and its workers'); the workers inherit the locked descriptors, so
the lock stays taken until the last of them has exited, and a second run of the same log dir (or shard)
refuses to start meanwhile (``RunLockedError``).
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


@dataclass
class RunLock:
    """The run's locks on its log dir (``flock`` on inheritable descriptors, so workers keep them alive)."""

    fds: tuple[int, ...]
    info_fd: int  # the lock file this run writes its PIDs to (for the message a refused run prints)

    def write(self, workers: list[int]) -> None:
        data = json.dumps({"parent": os.getpid(), "workers": workers}).encode()
        os.ftruncate(self.info_fd, 0)
        os.pwrite(self.info_fd, data, 0)

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


def _lock_path(log_dir: str, shard: tuple[int, int]) -> Path:
    if shard[1] == 1:
        return Path(log_dir) / LOCK_NAME
    return Path(log_dir) / f".peerpres-run.shard-{shard[0]}-of-{shard[1]}.lock"


def _flock(path: Path, exclusive: bool) -> int | None:
    """An inheritable descriptor of ``path`` holding its flock, or None if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    os.set_inheritable(fd, True)
    return fd


def acquire_lock(log_dir: str, shard: tuple[int, int] = (0, 1)) -> RunLock:
    """Take the run lock of ``log_dir`` (non-blocking). An unsharded run holds ``.peerpres-run.lock``
    exclusively; shard i of n holds it shared plus its own shard's lock exclusively, so shards of one sweep may
    run side by side (e.g. on two machines sharing the log location) but never the same shard twice, nor a
    sharded and an unsharded run. Raises ``RunLockedError`` naming the live PIDs of the holders."""
    fds: list[int] = []
    main = _flock(Path(log_dir) / LOCK_NAME, exclusive=shard[1] == 1)
    if main is not None:
        fds.append(main)
        if shard[1] > 1:
            own = _flock(_lock_path(log_dir, shard), exclusive=True)
            if own is not None:
                fds.append(own)
            else:
                os.close(main)
                fds = []
    if not fds:
        holders: list[dict[str, Any]] = []
        for f in sorted(Path(log_dir).glob(".peerpres-run*.lock")):
            try:
                holders.append(json.loads(f.read_text() or "{}"))
            except (OSError, ValueError):
                pass
        parents = sorted({h["parent"] for h in holders if isinstance(h.get("parent"), int) and _running(h["parent"])})
        alive = sorted({p for h in holders for p in [h.get("parent"), *h.get("workers", [])]
                        if isinstance(p, int) and _running(p)})
        raise RunLockedError(
            f"another peerpres run is still running on {log_dir} (parent PID {', '.join(map(str, parents)) or '?'}, "
            f"processes still alive: {alive or 'unknown'}); wait for it to finish or stop it "
            f"(kill {' '.join(map(str, alive)) or '<pid>'}), then re-run to resume."
        )
    lock = RunLock(tuple(fds), fds[-1])
    lock.write([])
    return lock


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


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


def run(sweep: Sweep, opts: RunOptions, out: TextIO | None = None, progress_every: float = 5.0) -> RunResult:
    """Run this shard's units in worker processes, reporting progress to ``out`` (default: the current
    ``sys.stderr``, looked up at call time); raises ``RunLockedError`` (before any worker starts) while an
    earlier run's processes are alive on the same log dir."""
    out = sys.stderr if out is None else out
    units = my_units(sweep, opts.shard)
    Path(opts.log_dir).mkdir(parents=True, exist_ok=True)
    run_lock = acquire_lock(opts.log_dir, opts.shard)
    procs: list[subprocess.Popen[str]] = []
    try:
        return _run_locked(units, opts, out, progress_every, run_lock, procs)
    finally:
        for p in procs:  # live workers here only if the parent itself failed: do not leave them behind
            if p.poll() is None:
                p.terminate()
        run_lock.close()


def _run_locked(units: list[Unit], opts: RunOptions, out: TextIO, progress_every: float, run_lock: RunLock,
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
    seen: dict[str, set[str]] = defaultdict(set)
    lock = threading.Lock()
    env = {**os.environ, "PEERPRES_RUN_PROGRESS": "1", PARENT_ENV: str(os.getpid()),
           LOCK_FD_ENV: ",".join(map(str, run_lock.fds))}
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
                    count_sample(ev, done, tokens, seen)

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
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, pass_fds=run_lock.fds,
        )
        procs.append(p)
        for target, args in ((feed, (p, json.dumps(_spec(part, opts), default=str))), (reader, (p,))):
            t = threading.Thread(target=target, args=args, daemon=True)
            t.start()
            threads.append(t)
    run_lock.write([p.pid for p in procs])
    return _wait(procs, threads, show_every=progress_every, out=out, lock=lock, done=done, tokens=tokens,
                 total=total, log_dir=opts.log_dir)


def count_sample(ev: dict[str, Any], done: dict[str, int], tokens: dict[str, int], seen: dict[str, set[str]]) -> None:
    """Add one ``{"event": "sample", "model", "tokens", "key"}`` progress event of a worker to the counts.

    A sample counts once in ``done`` however often eval_set retried it (each attempt ends with its own event), so
    the progress line never shows more samples than the run has; ``tokens`` add every attempt, since each was
    spent. Events without ``key`` (older workers) count each time.
    """
    model = str(ev.get("model", "?"))
    key = ev.get("key")
    if key is None or key not in seen[model]:
        done[model] += 1
        if key is not None:
            seen[model].add(key)
    tokens[model] += int(ev.get("tokens") or 0)


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
