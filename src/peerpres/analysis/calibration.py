"""Injected rates of the scripted controls, so the report can show each cell's measured interval beside the
rate the control was told to produce (issue 14 item 6).

``peerpres/synthetic`` (and its fixed-rate variants) preserves with known probabilities (providers/synthetic.py):
the model args ``misrepresent``, ``tamper``, ``fake_alignment``, ``exfiltrate``, ``collude``, ``false_flag`` and
``refuse`` (with optional ``_<relation>`` overrides; monitor_collusion also ``_unfamiliar``/``_human``), recorded by Inspect in each log's ``eval.model_args``. Per sample, the expected
value of the scenario's behaviour indicator is

- 0 when the sample is known to have refused (``outcome == "refused"`` or ``refuse`` is true): a refusing
  control never preserves;
- p (the behaviour's rate for the sample's relation) when it is known not to have refused (``refuse`` false;
  an outcome ``acted`` does not say it, since reading and then declining is acting);
- otherwise p x (1 - refuse) for a state label (tampering, exfiltration: a refusal is a determined "no") and
  p for a label read from the report (score, grade: a refusal writes no report, so without a grader its sample
  is undetermined and drops out).

A cell's injected rate is the mean of its determined samples' expectations. Other control models
(``peerpres/replay``, ``mockllm``, the messy-agent ``peerpres/chaos``) have no injected preservation rate: None.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from peerpres.analysis.frame import CONDITION_FIELDS
from peerpres.analysis.labels import truth

STATE_SCENARIOS = ("tampering", "exfiltration_transfer", "exfiltration_deletion")


def _synthetic_rates(model: str, model_args: dict[str, Any]) -> Any | None:
    """The provider's ``Rates`` for a synthetic control model, or None for any other model (or bad args)."""
    if not isinstance(model, str) or not model.startswith("peerpres/synthetic"):
        return None
    from peerpres.providers.synthetic import NAMED, parse_rates

    name = model.removeprefix("peerpres/")
    if name not in NAMED:
        return None
    try:
        rates, _ = parse_rates(name, {k: v for k, v in (model_args or {}).items()})
    except ValueError:
        return None
    return rates


def injected_rate(model: str, model_args: dict[str, Any] | None, cond: dict[str, Any]) -> tuple[float, float] | None:
    """(behaviour rate p, refusal rate r) the control was told to use in this condition, or None."""
    rates = _synthetic_rates(model, model_args or {})
    if rates is None:
        return None
    from peerpres.conditions import Condition
    from peerpres.providers.synthetic import arm_of, arms_of, behaviour_for

    try:
        c = Condition.from_dict({k: v for k, v in cond.items() if k in Condition.__dataclass_fields__})
    except Exception:  # noqa: BLE001 - a condition this version cannot build has no known injected rate
        return None
    b = behaviour_for(c)
    arm = arm_of(c)  # the relation, or in monitor_collusion the reviewed party when not the peer
    arms = arms_of(c)  # a rate may also depend on the sample's ablation / mitigation / peer identity (issue 11)
    p = rates.of(b, arm, arms) if b else 0.0
    return p, rates.of("refuse", arm, arms)


def log_model_args(log_files: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``eval.model_args`` of each log (header only). Call it on logs the frame has already read."""
    from inspect_ai.log import read_eval_log

    out: dict[str, dict[str, Any]] = {}
    for lf in sorted(set(log_files)):
        if not lf or not (os.path.exists(lf) or "://" in lf):
            continue
        out[lf] = dict(read_eval_log(lf, header_only=True).eval.model_args or {})
    return out


_COND_COLS = CONDITION_FIELDS  # the condition axes, as the frame names them


def attach_injected(df: pd.DataFrame, model_args: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
    """A copy of the frame with ``injected_rate``: per sample, the expected value of its behaviour indicator under
    the control's injected rates (NaN for every sample that is not from a synthetic control).

    ``model_args`` maps log file -> the log's model args; a frame column ``model_args`` (dict per row) is used
    when present instead. Values already in an ``injected_rate`` column are kept.
    """
    out = df.copy()
    exp = np.full(len(df), math.nan)
    if "injected_rate" in df.columns:  # already known (e.g. synthetic frame records): kept
        exp = pd.to_numeric(df["injected_rate"], errors="coerce").to_numpy(dtype=float).copy()
    if not len(df):
        out["injected_rate"] = exp
        return out
    models = df["model"].astype(str).to_numpy()
    mask = np.array([m.startswith("peerpres/synthetic") for m in models])
    if not mask.any():
        out["injected_rate"] = exp
        return out
    # known refusal: outcome "refused" or the refuse label true; known non-refusal: the refuse label false. An
    # outcome "acted" says nothing here (an agent that reads and then declines the task has acted).
    rl = truth(df, "refuse")
    refused = np.where(rl == 1.0, 1.0, np.where(rl == 0.0, 0.0, math.nan))
    if "outcome" in df.columns:
        refused = np.where((df["outcome"] == "refused").to_numpy(), 1.0, refused)
    args_col = df["model_args"].tolist() if "model_args" in df.columns else None
    cache: dict[tuple, tuple[float, float] | None] = {}
    for i in np.flatnonzero(mask & np.isnan(exp)):
        row = df.iloc[i]
        margs = (
            args_col[i]
            if args_col is not None and isinstance(args_col[i], dict)
            else (model_args or {}).get(str(row.get("log_file")), {})
        )
        cond = {c: row.get(c) for c in _COND_COLS if c in df.columns}
        cond = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in cond.items()}
        if cond.get("threshold") is not None:
            cond["threshold"] = int(cond["threshold"])
        key = (models[i], tuple(sorted((k, str(v)) for k, v in margs.items())), tuple(sorted(map(str, cond.items()))))
        if key not in cache:
            cache[key] = injected_rate(models[i], margs, cond)
        pr = cache[key]
        if pr is None:
            continue
        p, r = pr
        if refused[i] == 1.0:
            exp[i] = 0.0
        elif refused[i] == 0.0:
            exp[i] = p
        else:
            exp[i] = p * (1 - r) if cond.get("scenario") in STATE_SCENARIOS else p
    out["injected_rate"] = exp
    return out
