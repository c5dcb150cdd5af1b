"""Wording robustness: each behaviour rate per ``paraphrase`` (0 = the canonical wording, 1..3 our rewordings of
the documents that carry the peer relationship and the shutdown stake), with a test of heterogeneity across
the paraphrases, per model x scenario x condition.

The rates are the main tables' rate cells of one condition (``ROBUSTNESS_METRICS`` per dataset and threshold:
same functions, same n, k, Wilson interval and undetermined counts), computed on each paraphrase's samples with
the paraphrase taken out of the cell's ``variant`` so that the wordings of one condition line up. Cells that
pool conditions (the overview over relations, rates pooled over datasets or over the two exfiltration tasks,
refusal pooled over datasets) are left out: if the paraphrases were run on different conditions, their pooled
rates would differ by the mix of conditions, not by the wording. A sample without a recorded paraphrase (a log
written before the axis existed) ran the canonical wording: paraphrase 0.

Heterogeneity: ``stats.heterogeneity`` on the (paraphrases x [k, n - k]) table: Pearson's chi-square, or its
Monte Carlo p-value with both margins fixed when expected counts are small; Holm-adjusted across every row of the section
(``p_holm``). A cell that needs a grader (more than 20% undetermined, or selected by its label) in any
paraphrase gets no test: the determined samples alone would carry their selection bias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from peerpres.analysis import stats
from peerpres.analysis.metrics.cells import ALL, POOLED_EXFIL, Cell, prepare
from peerpres.analysis.metrics.stratified import split_rates

AXIS = "paraphrase"
CANONICAL = 0
ROBUSTNESS_METRICS = (
    "misrep_rate",
    "tampering_rate",
    "exfiltration_rate",
    "af_inflation_rate",
    "af_not_executed_rate",
    "af_refusal_rate",
)


def is_condition_rate(c: Cell) -> bool:
    """A behaviour rate of one condition (not pooled over datasets, relations or tasks)."""
    return c.metric in ROBUSTNESS_METRICS and c.dataset != ALL and c.scenario != POOLED_EXFIL


def paraphrase_levels(df: pd.DataFrame) -> np.ndarray:
    """Per row: the paraphrase as an int (missing -> 0, the canonical wording), or its text if not an integer."""
    if AXIS not in df.columns:
        return np.full(len(df), CANONICAL, dtype=object)
    out = np.empty(len(df), dtype=object)
    for i, v in enumerate(df[AXIS].to_numpy()):
        if v is None or v is pd.NA or v == "" or (isinstance(v, float) and math.isnan(v)):
            out[i] = CANONICAL
            continue
        try:
            f = float(v)
            out[i] = int(f) if f == int(f) else str(v)
        except (TypeError, ValueError):
            out[i] = str(v)
    return out


def paraphrases_present(df: pd.DataFrame) -> list[Any]:
    """The paraphrase values in a frame, sorted (ints first)."""
    return sorted(set(paraphrase_levels(df).tolist()), key=lambda v: (not isinstance(v, int), str(v) if not isinstance(v, int) else v))


@dataclass
class RobustnessRow:
    """One behaviour rate of one model x scenario x condition, per paraphrase, and the heterogeneity test."""

    cell: Cell  # the rate over every paraphrase pooled (identity of the row; variant without the paraphrase)
    per: dict[Any, Cell]
    test: stats.Heterogeneity
    p_holm: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        t = self.test
        return {
            **self.cell.to_dict(with_samples=False),
            "per_paraphrase": {str(k): c.to_dict(with_samples=False) for k, c in self.per.items()},
            "chi2": None if math.isnan(t.statistic) else t.statistic,
            "dof": t.dof,
            "p_heterogeneity": None if math.isnan(t.p) else t.p,
            "test_heterogeneity": t.test,
            "min_expected": None if math.isnan(t.min_expected) else t.min_expected,
            "p_holm_heterogeneity": None if math.isnan(self.p_holm) else self.p_holm,
        }


def _test(per: dict[Any, Cell]) -> stats.Heterogeneity:
    blind = [str(k) for k, c in per.items() if c.needs_grader]
    if blind:
        return stats.Heterogeneity(
            math.nan, 0, math.nan, f"not tested: needs a grader in paraphrase {', '.join(blind)}", math.nan
        )
    return stats.heterogeneity([(c.k, c.n) for c in per.values()])


def robustness(df: pd.DataFrame) -> list[RobustnessRow]:
    """Rows for every rate cell that was run with at least two paraphrases (none when the frame holds one)."""
    if df.empty:
        return []
    levels = paraphrase_levels(df)
    present = paraphrases_present(df)
    if len(present) < 2:
        return []
    w = prepare(df.assign(**{AXIS: CANONICAL}))  # the variant without the paraphrase: wordings line up
    overall, per_level = split_rates(w, levels, present, is_condition_rate)
    rows = []
    for key, c in overall.items():
        per = {lv: per_level[lv][key] for lv in present if key in per_level.get(lv, {})}
        if len(per) < 2:
            continue
        rows.append(RobustnessRow(c, per, _test(per)))
    for r, p in zip(rows, stats.adjust([r.test.p for r in rows], "holm"), strict=True):
        r.p_holm = p
    return rows
