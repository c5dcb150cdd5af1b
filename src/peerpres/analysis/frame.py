"""Inspect logs -> one tidy pandas DataFrame, one row per sample (epoch).

Columns:

- provenance: ``log_file``, ``task``, ``run_id``, ``eval_id``, ``sample_id``, ``epoch``, ``model``;
- the condition: every ``Condition`` field plus ``config_id``, ``scenario_version`` and the scorer's extra
  condition fields (``family``, ``agent``, ``peer``, ``subject_name``);
- labels: for each label ``<name>`` (value; ``<name>_label`` if the name is a condition column, i.e. the
  ``threshold`` label), ``<name>__source`` (``deterministic``, ``judge:<model>`` or
  ``undetermined``) and ``<name>__reason``;
- ``has_labels`` (the sample carries a ``peerpres_labels`` score), ``input_tokens``, ``output_tokens``,
  ``total_tokens``, ``cost`` (NaN when no provider reported it), ``error`` (message or None), ``limit`` (type of
  the limit hit or None), ``total_time``.

Only Inspect's log API is used: any log from any machine can be read, and the world code is never imported.
Pooling logs whose ``scenario_version`` differ is refused (``ScenarioVersionError``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log

LABEL_SCORER = "peerpres_labels"
SEP = "__"

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
    *CONDITION_FIELDS,
    *EXTRA_CONDITION_FIELDS,
    "has_labels",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "error",
    "limit",
    "total_time",
)

CONTROL_MODEL_PREFIXES: tuple[str, ...] = ("peerpres/synthetic", "peerpres/replay", "mockllm")
CONTROL_LABEL = "control (scripted), not a model"


class ScenarioVersionError(ValueError):
    """Logs of different scenario versions cannot be pooled: their conditions are not the same experiment."""


def label_column(name: str) -> str:
    """Column of a label's value: its name, or ``<name>_label`` when the name is also a condition column
    (the ``threshold`` label, "above"/"below", would otherwise overwrite the condition's threshold)."""
    return f"{name}_label" if name in BASE_COLUMNS else name


def put_label(rec: dict[str, Any], name: str, value: Any, source: Any, reason: Any) -> None:
    col = label_column(name)
    rec[col], rec[col + SEP + "source"], rec[col + SEP + "reason"] = value, source, reason


def is_control_model(model: Any) -> bool:
    return isinstance(model, str) and model.startswith(CONTROL_MODEL_PREFIXES)


# -- finding logs ------------------------------------------------------------------------------------------


def log_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """Expand files and directories into a sorted list of log files (Inspect's ``list_eval_logs`` for dirs)."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    out: list[str] = []
    for p in paths:
        s = os.fspath(p)
        if os.path.isdir(s):
            found = [info.name for info in list_eval_logs(s, recursive=True)]
            out.extend(f.removeprefix("file://") for f in found)
        elif os.path.exists(s) or "://" in s:
            out.append(s)
        else:
            raise FileNotFoundError(f"no log file or directory at {s}")
    uniq = sorted(dict.fromkeys(out))
    if not uniq:
        raise FileNotFoundError(f"no Inspect logs (.eval/.json) found under {', '.join(map(os.fspath, paths))}")
    return uniq


# -- reading -----------------------------------------------------------------------------------------------


def read_frame(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """Read every sample of the given logs (files or directories) into one frame; see the module docstring."""
    records: list[dict[str, Any]] = []
    for path in log_paths(paths):
        # whole log in one pass, without transcripts, events or stores: the reader parses samples in parallel
        # and keeps only what the frame needs (8x faster here than streaming samples one by one)
        records.extend(log_records(read_eval_log(path, exclude_fields=_SKIP), path))
    return frame_from_records(records)


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


def sample_record(sample: EvalSample, base: dict[str, Any]) -> dict[str, Any]:
    rec: dict[str, Any] = dict(base)
    rec["sample_id"] = str(sample.id)
    rec["epoch"] = sample.epoch
    meta = dict(sample.metadata or {})
    score = (sample.scores or {}).get(LABEL_SCORER)
    if score is None:  # a scorer registered under another name still counts if it carries labels
        score = next(
            (s for s in (sample.scores or {}).values() if isinstance(s.metadata, dict) and "labels" in s.metadata), None
        )
    smeta = score.metadata if score is not None and isinstance(score.metadata, dict) else {}
    cond = {**meta, **(smeta.get("condition") or {})}
    if "scenario_version" in smeta:
        cond.setdefault("scenario_version", smeta["scenario_version"])
    for key in (*CONDITION_FIELDS, *EXTRA_CONDITION_FIELDS):
        rec[key] = cond.get(key)
    labels = smeta.get("labels")
    rec["has_labels"] = isinstance(labels, dict)
    if isinstance(labels, dict):
        for name, lab in labels.items():
            if isinstance(lab, dict):
                put_label(rec, name, lab.get("value"), lab.get("source"), lab.get("reason"))
    inp = out = tot = 0
    costs: list[float] = []
    for usage in (sample.model_usage or {}).values():
        inp += usage.input_tokens or 0
        out += usage.output_tokens or 0
        tot += usage.total_tokens or 0
        if usage.total_cost is not None:
            costs.append(usage.total_cost)
    rec["input_tokens"], rec["output_tokens"], rec["total_tokens"] = inp, out, tot
    rec["cost"] = math.fsum(costs) if costs else math.nan
    rec["error"] = sample.error.message if sample.error is not None else None
    rec["limit"] = sample.limit.type if sample.limit is not None else None
    rec["total_time"] = sample.total_time
    return rec


def frame_from_records(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Build and check a frame from per-sample dicts (also how tests and benchmarks make frames)."""
    df = pd.DataFrame.from_records(list(records))
    for col in BASE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    if "has_labels" in df:
        df["has_labels"] = df["has_labels"].fillna(False).astype(bool)
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
