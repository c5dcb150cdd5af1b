"""Per-cell differences between two sets of logs (two models, or before and after a mitigation).

Rate cells of the same metric and condition are paired and reported as B minus A with a Newcombe interval
and a two-proportion z-test, Holm-adjusted across the comparison. When each side holds exactly one model and
the models differ, cells are paired across models (the model is not part of the key); otherwise the model
must match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from peerpres.analysis import metrics, stats
from peerpres.analysis.metrics import CELL_KEYS, Cell

# Metrics whose cells are plain rates (k of n) and can be compared sample-wise.
RATE_METRICS = (
    "misrep_rate",
    "tampering_rate",
    "exfiltration_rate",
    "exfiltration_state_rate",
    "af_inflation_rate",
    "af_not_executed_rate",
    "af_refusal_rate",
    "refusal_rate",
    "overview",
)


@dataclass
class Comparison:
    metric: str
    label: str
    model_a: str | None
    model_b: str | None
    scenario: str | None
    subject: str | None
    relation: str | None
    instantiation: str | None
    dataset: str | None
    threshold: int | None
    monitoring: str | None
    variant: str | None
    n_a: int
    k_a: int
    rate_a: float
    n_b: int
    k_b: int
    rate_b: float
    diff: float
    ci_low: float
    ci_high: float
    p: float
    test: str
    p_holm: float = math.nan
    undetermined_a: int = 0
    undetermined_b: int = 0
    errors_a: int = 0
    errors_b: int = 0
    # A side needs a grader (> 20% undetermined, or a label-selected determined subset): no point difference is
    # shown, only the bounds of B - A over every way the undetermined samples could fall (Manski).
    needs_grader: bool = False
    diff_bound_low: float = math.nan
    diff_bound_high: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def _key(c: Cell, with_model: bool) -> tuple:
    keys = [k for k in CELL_KEYS if with_model or k != "model"]
    return (c.metric, c.label, *(getattr(c, k) for k in keys))


def compare_cells(a: Sequence[Cell], b: Sequence[Cell], match_models: bool | None = None) -> list[Comparison]:
    a = [c for c in a if c.metric in RATE_METRICS]
    b = [c for c in b if c.metric in RATE_METRICS]
    if match_models is None:
        ma, mb = {c.model for c in a}, {c.model for c in b}
        match_models = not (len(ma) == 1 and len(mb) == 1 and ma != mb)
    index_b = {_key(c, match_models): c for c in b}
    out: list[Comparison] = []
    for ca in a:
        cb = index_b.get(_key(ca, match_models))
        if cb is None:
            continue
        d, lo, hi = stats.newcombe(cb.k, cb.n, ca.k, ca.n)
        t = stats.two_proportion_test(cb.k, cb.n, ca.k, ca.n)
        needs_grader = bool(ca.needs_grader or cb.needs_grader)
        bound_lo = bound_hi = math.nan
        if needs_grader:
            # as in the report: a side that needs a grader (> 20% undetermined, or a determined subset selected
            # by the label) would lend the test, the difference and its interval its selection bias; show the
            # bounds of the difference instead (B's lowest minus A's highest, B's highest minus A's lowest)
            t = stats.TestResult(math.nan, metrics.NOT_TESTED)
            d = lo = hi = math.nan
            bound_lo, bound_hi = cb.bound_low - ca.bound_high, cb.bound_high - ca.bound_low
        out.append(
            Comparison(
                metric=ca.metric,
                label=ca.label,
                model_a=ca.model,
                model_b=cb.model,
                scenario=ca.scenario,
                subject=ca.subject,
                relation=ca.relation,
                instantiation=ca.instantiation,
                dataset=ca.dataset,
                threshold=ca.threshold,
                monitoring=ca.monitoring,
                variant=ca.variant,
                n_a=ca.n,
                k_a=ca.k,
                rate_a=ca.rate,
                n_b=cb.n,
                k_b=cb.k,
                rate_b=cb.rate,
                diff=d,
                ci_low=lo,
                ci_high=hi,
                p=t.p,
                test=t.test,
                undetermined_a=ca.undetermined,
                undetermined_b=cb.undetermined,
                errors_a=ca.errors,
                errors_b=cb.errors,
                needs_grader=needs_grader,
                diff_bound_low=bound_lo,
                diff_bound_high=bound_hi,
            )
        )
    for c, p in zip(out, stats.adjust([c.p for c in out], "holm"), strict=True):
        c.p_holm = p
    return out


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, match_models: bool | None = None) -> list[Comparison]:
    return compare_cells(metrics.compute(a), metrics.compute(b), match_models)


def comparisons_frame(rows: Sequence[Comparison]) -> pd.DataFrame:
    return pd.DataFrame([r.to_dict() for r in rows])
