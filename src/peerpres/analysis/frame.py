"""Inspect logs -> one tidy pandas DataFrame, one row per sample (epoch).

Columns:

- provenance: ``log_file``, ``task``, ``run_id``, ``eval_id``, ``sample_id``, ``epoch``, ``model``,
  ``task_identity`` (``logs.task_identity``), ``log_status`` (status of the log the row comes from) and
  ``from_unfinished`` (that log is not ``success``: no finished log holds this sample);
- the condition: every ``Condition`` field plus ``config_id``, ``scenario_version`` and the scorer's extra
  condition fields (``family``, ``agent``, ``peer``, ``subject_name``);
- labels: for each label ``<name>`` (value; ``<name>_label`` if the name is a condition column, i.e. the
  ``threshold`` label), ``<name>__source`` (``deterministic``, ``judge:<model>`` or
  ``undetermined``), ``<name>__reason`` and, when the label records one, ``<name>__state`` (the ungated state
  fact, e.g. the weights on 10.0.12.46 whatever the read gate said);
- the outcome (issue 15's contract): ``outcome`` (``acted``, ``refused``, ``empty``, ``filtered``, ``limit``,
  ``error``) and ``outcome__reason``; ``gate__<name>`` (the gate's reason: ``passed``, ``not called``,
  ``bad arguments``, ``wrong server``). Logs written before the contract have None there, except that an errored
  sample is always ``outcome`` ``error`` with its message as the reason;
- ``has_labels`` (the sample carries a ``peerpres_labels`` score), ``input_tokens``, ``output_tokens``,
  ``total_tokens``, ``cost`` (NaN when no provider reported it), ``error`` (message or None), ``limit`` (type of
  the limit hit or None), ``total_time``.

Only Inspect's log API and its ``.eval`` format are used: any log from any machine can be read, and the world
code is never imported. Every sample is counted once however many interrupted attempts left logs behind
(``peerpres.analysis.logs``). Pooling logs whose ``scenario_version`` differ is refused (``ScenarioVersionError``).
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from inspect_ai._util.constants import get_deserializing_context
from inspect_ai.log import EvalLog, EvalSample, read_eval_log

from peerpres.analysis.logs import BadLogError, LogInventory, LogRead, SkippedLog, find_logs, select_once

logger = logging.getLogger(__name__)

LABEL_SCORER = "peerpres_labels"
SEP = "__"
GATE_PREFIX = "gate" + SEP
OUTCOMES: tuple[str, ...] = ("acted", "refused", "empty", "filtered", "limit", "error")

# Condition axes (mirrors peerpres.conditions.Condition; kept literal so old logs stay readable).
CONDITION_FIELDS: tuple[str, ...] = (
    "scenario",
    "subject",
    "relation",
    "instantiation",
    "dataset",
    "threshold",
    "monitoring",
    "peer_identity",
    "memory_hard",
    "scratchpad",
    "harness",
    "ablation",
    "mitigation",
    "paraphrase",
    "peer_mode",
    "live_peer",
    "reviewed",
    "violation",
)
EXTRA_CONDITION_FIELDS: tuple[str, ...] = ("config_id", "scenario_version", "family", "agent", "peer", "subject_name")

BASE_COLUMNS: tuple[str, ...] = (
    "log_file",
    "task",
    "run_id",
    "eval_id",
    "sample_id",
    "epoch",
    "model",
    "task_identity",
    "log_status",
    "from_unfinished",
    *CONDITION_FIELDS,
    *EXTRA_CONDITION_FIELDS,
    "has_labels",
    "outcome",
    "outcome__reason",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "error",
    "limit",
    "total_time",
)

_BASE_SET = frozenset(BASE_COLUMNS)

CONTROL_MODEL_PREFIXES: tuple[str, ...] = ("peerpres/synthetic", "peerpres/replay", "peerpres/chaos", "mockllm")
CONTROL_LABEL = "control (scripted), not a model"


class ScenarioVersionError(ValueError):
    """Logs of different scenario versions cannot be pooled: their conditions are not the same experiment."""


def label_column(name: str) -> str:
    """Column of a label's value: its name, or ``<name>_label`` when the name is also a condition column
    (the ``threshold`` label, "above"/"below", would otherwise overwrite the condition's threshold)."""
    return f"{name}_label" if name in _BASE_SET else name


def put_label(rec: dict[str, Any], name: str, value: Any, source: Any, reason: Any) -> None:
    col, src, why, _ = _label_columns(name)
    rec[col], rec[src], rec[why] = value, source, reason


@functools.lru_cache(maxsize=4096)
def _label_columns(name: str) -> tuple[str, str, str, str]:
    """Columns of a label: value, ``__source``, ``__reason``, ``__state``."""
    col = label_column(name)
    return col, col + SEP + "source", col + SEP + "reason", col + SEP + "state"


def is_control_model(model: Any) -> bool:
    return isinstance(model, str) and model.startswith(CONTROL_MODEL_PREFIXES)


# -- finding and reading logs ------------------------------------------------------------------------------


def log_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """Expand files and directories into a sorted list of log files (``logs.find_logs``)."""
    return find_logs(paths)


def read_frame(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], skip_bad_logs: bool = False, fast: bool = True
) -> pd.DataFrame:
    """Read the given logs (files or directories) into one frame, one row per sample and epoch, exactly once.

    See ``load_frame``, which also returns the ``LogInventory``.
    """
    return load_frame(paths, skip_bad_logs=skip_bad_logs, fast=fast)[0]


def load_frame(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], skip_bad_logs: bool = False, fast: bool = True
) -> tuple[pd.DataFrame, LogInventory]:
    """Read logs into the frame and say what was read.

    One row per (model, task identity, sample id, epoch), from the newest finished log holding it, else the
    newest log (``logs.select_once``); rows from unfinished logs have ``from_unfinished`` True.
    An unreadable log raises ``BadLogError`` naming it; with ``skip_bad_logs`` it is left out and listed in
    ``inventory.skipped``. ``fast`` reads local ``.eval`` files' sample entries directly (``read_log``).
    Raises ``FileNotFoundError`` (no logs) and ``ScenarioVersionError`` (mixed versions).
    """
    reads: list[LogRead] = []
    skipped: list[SkippedLog] = []
    for path in find_logs(paths):
        try:
            reads.append(read_log(path, fast=fast))
        except BadLogError as e:
            if not skip_bad_logs:
                raise
            skipped.append(SkippedLog(e.path, e.reason))
    records, inventory = select_once(reads, skipped)
    return frame_from_records(records), inventory


def read_log(path: str, fast: bool = True) -> LogRead:
    """One log's header and per-sample records. Raises ``BadLogError`` if it cannot be read.

    Fast path (local ``.eval``): the header through Inspect, then each ``samples/*.json`` zip entry parsed with
    pydantic-core's JSON parser into plain dicts, skipping Inspect's per-sample model validation (which is most
    of the cost of ``read_eval_log``). A sample whose JSON is not in the current shape (e.g. an old log's
    ``score`` field) goes through ``EvalSample`` validation instead. Same records as the full read
    (``tests/test_analysis_logs.py`` checks this). Other logs (``.json``, remote), and any log the fast path
    fails on, go through Inspect's ``read_eval_log``; its error is the one reported.
    """
    if fast and path.endswith(".eval") and "://" not in path:
        try:
            return _read_eval_fast(path)
        except Exception as e:  # noqa: BLE001  (whatever failed, Inspect's own reader decides below and names it)
            logger.debug("fast read of %s failed (%s: %s); reading it with Inspect", path, type(e).__name__, e)
    try:
        log = read_eval_log(path, exclude_fields=_SKIP)
        records = log_records(log, path)
        log.samples = None  # keep the header only: the records hold what the frame needs
        return LogRead(path, log, records)
    except BadLogError:
        raise
    except Exception as e:  # any failure to read is named, never silent; the caller stops or lists it
        msg = " ".join(f"{type(e).__name__}: {e}".split())
        raise BadLogError(path, msg[:300]) from e


def _read_eval_fast(path: str) -> LogRead:
    from pydantic_core import from_json

    from peerpres.analysis.evalzip import EvalZip

    with EvalZip(path) as ez:
        header = ez.header()
        base = _base(header, path)
        records: list[dict[str, Any]] = []
        for _, raw in ez.samples():
            data = from_json(raw, cache_strings="keys")
            rec = json_sample_record(data, base)
            if rec is None:
                rec = sample_record(EvalSample.model_validate(data, context=get_deserializing_context()), base)
            records.append(rec)
    return LogRead(path, header, records)


def log_records(log: EvalLog, log_file: str | None = None) -> list[dict[str, Any]]:
    """One record per sample of an already-read log."""
    base = _base(log, log_file or (log.location or ""))
    return [sample_record(s, base) for s in (log.samples or [])]


_SKIP = {"messages", "events", "attachments", "store"}


def _base(log: EvalLog, log_file: str) -> dict[str, Any]:
    return {
        "log_file": str(log_file),
        "task": log.eval.task,
        "run_id": log.eval.run_id,
        "eval_id": log.eval.eval_id,
        "model": log.eval.model,
    }


def _labels_score(scores: dict[str, Any], meta_of: Any) -> dict[str, Any]:
    """Metadata of the labels score: ``peerpres_labels``, else any score whose metadata carries ``labels``."""
    score = scores.get(LABEL_SCORER)
    if score is None:  # a scorer registered under another name still counts if it carries labels
        score = next((s for s in scores.values() if isinstance(meta_of(s), dict) and "labels" in meta_of(s)), None)
    smeta = meta_of(score) if score is not None else None
    return smeta if isinstance(smeta, dict) else {}


def sample_record(sample: EvalSample, base: dict[str, Any]) -> dict[str, Any]:
    """The frame record of one ``EvalSample`` (module docstring for the columns)."""
    usage = [
        (u.input_tokens, u.output_tokens, u.total_tokens, u.total_cost) for u in (sample.model_usage or {}).values()
    ]
    return _record(
        base,
        sample.id,
        sample.epoch,
        sample.metadata,
        _labels_score(sample.scores or {}, lambda s: s.metadata),
        usage,
        sample.error.message if sample.error is not None else None,
        sample.limit.type if sample.limit is not None else None,
        sample.total_time,
    )


def json_sample_record(data: Any, base: dict[str, Any]) -> dict[str, Any] | None:
    """The frame record of one sample's raw JSON (as stored in an ``.eval``); None if not in the current shape."""
    if not isinstance(data, dict) or "id" not in data or "epoch" not in data or "score" in data:
        return None
    scores = data.get("scores") or {}
    usages = data.get("model_usage") or {}
    error, limit = data.get("error"), data.get("limit")
    if not (
        isinstance(scores, dict)
        and all(isinstance(s, dict) for s in scores.values())
        and isinstance(usages, dict)
        and all(isinstance(u, dict) for u in usages.values())
        and (error is None or isinstance(error, dict))
        and (limit is None or isinstance(limit, dict))
    ):
        return None
    usage = [(u.get("input_tokens"), u.get("output_tokens"), u.get("total_tokens"), u.get("total_cost")) for u in usages.values()]
    return _record(
        base,
        data["id"],
        data["epoch"],
        data.get("metadata"),
        _labels_score(scores, lambda s: s.get("metadata")),
        usage,
        error.get("message") if error is not None else None,
        limit.get("type") if limit is not None else None,
        data.get("total_time"),
    )


def _record(
    base: dict[str, Any],
    sample_id: Any,
    epoch: Any,
    metadata: dict[str, Any] | None,
    smeta: dict[str, Any],
    usage: Iterable[tuple[Any, Any, Any, Any]],
    error: str | None,
    limit: str | None,
    total_time: Any,
) -> dict[str, Any]:
    rec: dict[str, Any] = dict(base)
    rec["sample_id"] = str(sample_id)
    rec["epoch"] = epoch
    cond = {**(metadata or {}), **(smeta.get("condition") or {})}
    if "scenario_version" in smeta:
        cond.setdefault("scenario_version", smeta["scenario_version"])
    for key in (*CONDITION_FIELDS, *EXTRA_CONDITION_FIELDS):
        rec[key] = cond.get(key)
    labels = smeta.get("labels")
    rec["has_labels"] = isinstance(labels, dict)
    if isinstance(labels, dict):
        for name, lab in labels.items():
            if isinstance(lab, dict):
                col, src, why, state = _label_columns(name)
                rec[col], rec[src], rec[why] = lab.get("value"), lab.get("source"), lab.get("reason")
                if lab.get("state") is not None:
                    rec[state] = lab["state"]
    # the contract of issue 15: one outcome per sample, the reason of every gate (old logs: None)
    outcome = smeta.get("outcome")
    if isinstance(outcome, dict):
        rec["outcome"], rec["outcome" + SEP + "reason"] = outcome.get("value"), outcome.get("reason")
    elif isinstance(outcome, str):
        rec["outcome"], rec["outcome" + SEP + "reason"] = outcome, None
    else:
        rec["outcome"], rec["outcome" + SEP + "reason"] = None, None
    gates = smeta.get("gates")
    if isinstance(gates, dict):
        for name, gate in gates.items():
            rec[GATE_PREFIX + str(name)] = gate.get("reason") if isinstance(gate, dict) else gate
    inp = out = tot = 0
    costs: list[float] = []
    for i, o, t, c in usage:
        inp += i or 0
        out += o or 0
        tot += t or 0
        if c is not None:
            costs.append(c)
    rec["input_tokens"], rec["output_tokens"], rec["total_tokens"] = inp, out, tot
    rec["cost"] = math.fsum(costs) if costs else math.nan
    rec["error"] = error
    rec["limit"] = limit
    rec["total_time"] = total_time
    if error is not None and rec["outcome"] is None:
        # an errored sample the scorer never saw (or that predates outcomes) is still a sample: outcome "error"
        rec["outcome"], rec["outcome" + SEP + "reason"] = "error", _first_line(error)
    return rec


def _first_line(text: str, limit: int = 200) -> str:
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def frame_from_records(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Build and check a frame from per-sample dicts (also how tests and benchmarks make frames)."""
    df = pd.DataFrame.from_records(list(records))
    for col in BASE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    for flag in ("has_labels", "from_unfinished"):
        df[flag] = df[flag].fillna(False).astype(bool)
    for col in df.columns:  # not recorded = None (not NaN) in the contract's text columns
        if col in ("outcome", "outcome" + SEP + "reason") or col.startswith(GATE_PREFIX) or col.endswith(SEP + "state"):
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    check_scenario_versions(df)
    front = [c for c in BASE_COLUMNS]
    rest = sorted(c for c in df.columns if c not in BASE_COLUMNS)
    return df[front + rest]


def check_scenario_versions(df: pd.DataFrame) -> None:
    """Refuse a frame that mixes scenario versions (a missing version counts as its own version)."""
    if df.empty:
        return
    versions = df["scenario_version"].map(
        lambda v: "missing" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    )
    found = sorted(versions.unique())
    if len(found) > 1:
        where = (
            df.assign(_v=versions)
            .groupby("_v")["log_file"]
            .agg(lambda s: ", ".join(sorted(set(map(str, s)))[:3]))
            .to_dict()
        )
        detail = "; ".join(f"{v}: {files}" for v, files in where.items())
        raise ScenarioVersionError(
            f"refusing to pool logs of different scenario versions ({', '.join(found)}): the scenarios changed "
            f"between versions, so their rates are not comparable. Analyse each version separately. Logs: {detail}"
        )


def label_names(df: pd.DataFrame) -> list[str]:
    """Names of the label columns present in a frame."""
    return sorted(c[: -len(SEP + "source")] for c in df.columns if c.endswith(SEP + "source"))
