"""Which logs a frame reads, and which of their samples it keeps: exactly one result per sample and epoch.

A run folder can hold several logs of one task: an interrupted attempt (status ``started``, ``error`` or
``cancelled``) beside the attempt that resumed it, which Inspect's ``eval_set`` seeds with the samples the first
attempt had finished. Pooling every log would count those samples twice. ``select_once`` keeps one result per
``(model, task identity, sample id, epoch)``: the one from the newest *finished* log (status ``success``), else
from the newest log that holds it, and ``LogInventory`` records what was read, used, superseded and skipped.

Task identity is Inspect's own ``task_identifier`` (the key ``eval_set`` pairs tasks with their logs by: task
file and name, task arguments, model, model arguments, generate config, model roles, solver plan, task version and
limits), computed with the ``epochs`` task argument removed: the number of epochs says how many samples were
asked for, not which, so a re-run with more epochs extends the same samples instead of adding a second copy of
epochs 1..n. "Newest" orders by the log's ``eval.created``, then file modification time, then path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from inspect_ai import task_identifier
from inspect_ai.log import EvalLog, list_eval_logs

FINISHED = "success"
# task arguments that set how many samples run rather than which ones
COUNT_ARGS: frozenset[str] = frozenset({"epochs"})
# files Inspect or peerpres write into a log dir that are not logs (also refused when named explicitly)
NOT_LOGS: frozenset[str] = frozenset({"eval-set.json", "logs.json", "peerpres-run-summary.json", "listing.json"})


class BadLogError(ValueError):
    """A log file could not be read (truncated, corrupt, not a log). ``path`` and ``reason`` name it."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(
            f"unreadable log {path}: {reason}. Move or delete it, or pass --skip-bad-logs to go on without it "
            "(the report then lists it as skipped)."
        )


@dataclass
class LogEntry:
    """One log that was read. ``used`` + ``superseded`` = ``samples``; ``finished`` = status ``success``."""

    path: str
    status: str
    task: str | None
    model: str | None
    task_identity: str
    created: str | None
    samples: int = 0
    used: int = 0
    superseded: int = 0

    @property
    def finished(self) -> bool:
        return self.status == FINISHED


@dataclass(frozen=True)
class SkippedLog:
    """A log left out: unreadable (``--skip-bad-logs``). ``reason`` is the error, one line."""

    path: str
    reason: str


@dataclass
class LogInventory:
    """What a frame was read from, for the report's list of logs.

    - ``read``: every log read, in the order they were preferred (finished first, then newest), with its
      status and how many of its samples were used or superseded by a preferred log;
    - ``skipped``: unreadable logs left out with ``--skip-bad-logs`` (path, reason);
    - ``status``: number of logs read per status (``success``, ``started``, ``error``, ``cancelled``);
    - ``unfinished_samples``: rows of the frame that come only from an unfinished log (``from_unfinished``).
    """

    read: list[LogEntry] = field(default_factory=list)
    skipped: list[SkippedLog] = field(default_factory=list)

    @property
    def status(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.read:
            out[e.status] = out.get(e.status, 0) + 1
        return dict(sorted(out.items()))

    @property
    def samples_used(self) -> int:
        return sum(e.used for e in self.read)

    @property
    def samples_superseded(self) -> int:
        return sum(e.superseded for e in self.read)

    @property
    def unfinished_samples(self) -> int:
        return sum(e.used for e in self.read if not e.finished)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (as written to results.json under ``logs``)."""
        return {
            "read": [asdict(e) | {"finished": e.finished} for e in self.read],
            "skipped": [asdict(s) for s in self.skipped],
            "status": self.status,
            "samples_used": self.samples_used,
            "samples_superseded": self.samples_superseded,
            "unfinished_samples": self.unfinished_samples,
        }


# -- finding logs ------------------------------------------------------------------------------------------


def is_log_name(path: str) -> bool:
    """An Inspect log by its name: ``*.eval``, or ``*.json`` that is not a known non-log file of a log dir."""
    name = os.path.basename(path.rstrip("/"))
    if name in NOT_LOGS:
        return False
    return name.endswith((".eval", ".json"))


def find_logs(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """Expand files and directories into a sorted list of log files.

    Directories are listed with Inspect's ``list_eval_logs`` (recursive), which keeps ``*.eval`` and
    timestamp-named ``*.json`` logs only, so ``eval-set.json``, ``logs.json`` and the run summary are not read.
    Named files that are such non-log files are dropped too. Raises ``FileNotFoundError`` for a missing path or
    when no log is found.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = list(paths)
    out: list[str] = []
    for p in paths:
        s = os.fspath(p)
        if os.path.isdir(s):
            found = [info.name for info in list_eval_logs(s, recursive=True)]
            out.extend(f.removeprefix("file://") for f in found if is_log_name(f))
        elif os.path.exists(s) or "://" in s:
            if is_log_name(s):
                out.append(s)
        else:
            raise FileNotFoundError(f"no log file or directory at {s}")
    uniq = sorted(dict.fromkeys(out))
    if not uniq:
        raise FileNotFoundError(f"no Inspect logs (.eval/.json) found under {', '.join(map(os.fspath, paths))}")
    return uniq


# -- identity and preference -------------------------------------------------------------------------------


def task_identity(header: EvalLog) -> str:
    """Inspect's ``task_identifier`` of a log header, without the ``epochs`` task argument (module docstring)."""
    args = header.eval.task_args_passed or {}
    if COUNT_ARGS & set(args):
        ev = header.eval.model_copy(update={"task_args_passed": {k: v for k, v in args.items() if k not in COUNT_ARGS}})
        header = header.model_copy(update={"eval": ev})
    try:
        return task_identifier(header, None)
    except (AttributeError, TypeError, ValueError) as e:  # a header too old for Inspect's identifier
        import json

        return f"{header.eval.task}#{json.dumps(args, sort_keys=True, default=str)}/{header.eval.model}#{type(e).__name__}"


def _created(header: EvalLog) -> float:
    try:
        return datetime.fromisoformat(str(header.eval.created)).timestamp()
    except (TypeError, ValueError):
        return float("-inf")


def _mtime(path: str) -> float:
    try:
        return os.path.getmtime(path)
    except OSError:
        return float("-inf")


@dataclass
class LogRead:
    """One log's header and its per-sample records (as ``frame.sample_record`` makes them)."""

    path: str
    header: EvalLog
    records: list[dict[str, Any]]


def preference_order(logs: Sequence[LogRead]) -> list[LogRead]:
    """Finished logs first, then newest first (``eval.created``, file mtime, path)."""
    return sorted(
        logs,
        key=lambda r: (r.header.status == FINISHED, _created(r.header), _mtime(r.path), r.path),
        reverse=True,
    )


def select_once(logs: Sequence[LogRead], skipped: Sequence[SkippedLog] = ()) -> tuple[list[dict[str, Any]], LogInventory]:
    """Keep one record per (model, task identity, sample id, epoch), from the preferred log holding it.

    Each kept record gets ``task_identity``, ``log_status`` and ``from_unfinished`` (its log is not
    ``success``). Returns the kept records (in preference order of their logs) and the inventory.
    """
    inv = LogInventory(skipped=list(skipped))
    seen: set[tuple[Any, str, str, Any]] = set()
    kept: list[dict[str, Any]] = []
    for lr in preference_order(logs):
        ident = task_identity(lr.header)
        status = str(lr.header.status)
        entry = LogEntry(
            path=lr.path,
            status=status,
            task=lr.header.eval.task,
            model=lr.header.eval.model,
            task_identity=ident,
            created=str(lr.header.eval.created) if lr.header.eval.created else None,
            samples=len(lr.records),
        )
        for rec in lr.records:
            key = (rec.get("model"), ident, str(rec.get("sample_id")), rec.get("epoch"))
            if key in seen:
                entry.superseded += 1
                continue
            seen.add(key)
            rec["task_identity"] = ident
            rec["log_status"] = status
            rec["from_unfinished"] = status != FINISHED
            kept.append(rec)
            entry.used += 1
        inv.read.append(entry)
    return kept, inv
