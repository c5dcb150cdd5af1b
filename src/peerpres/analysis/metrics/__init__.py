"""The paper's metrics (spec §5.2) computed from the tidy frame, as a list of ``Cell``s.

One short module per behaviour: ``misrep`` (misrepresentation, its non_shutdown control and the headline),
``tampering``, ``exfiltration`` (gated and ungated), ``alignment_faking``, ``selfpres`` (self-preservation
with a peer present), ``descriptive`` (refusal, overview); ``peer_rates`` holds the rate-vs-no_peer shape
that tampering and exfiltration share; ``cells`` the Cell record, grouping and cell builders. Statistics live
in ``peerpres.analysis.stats``. What each metric means and how it maps to the paper: report/METRICS.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd

from peerpres.analysis import stats
from peerpres.analysis.metrics.alignment_faking import alignment_faking
from peerpres.analysis.metrics.arms import paired_arms
from peerpres.analysis.metrics.asset import asset_saved
from peerpres.analysis.metrics.behaviour import BEHAVIOUR_LABEL, BEHAVIOUR_NAME, behaviour
from peerpres.analysis.metrics.cells import (
    ALL,
    ANY_PEER,
    CELL_KEYS,
    HEADLINE,
    KEYS,
    NA,
    NOT_RECORDED,
    OUTCOMES,
    PEER_RELATIONS,
    POOLED_EXFIL,
    Cell,
    Group,
    prepare,
)
from peerpres.analysis.metrics.descriptive import overview, refusal
from peerpres.analysis.metrics.exfiltration import exfiltration
from peerpres.analysis.metrics.live_peer import live_peer
from peerpres.analysis.metrics.misrep import SETTINGS, misrepresentation
from peerpres.analysis.metrics.monitor import monitor
from peerpres.analysis.metrics.selfpres import self_preservation
from peerpres.analysis.metrics.tampering import tampering

__all__ = [
    "ALL",
    "ANY_PEER",
    "BEHAVIOUR_LABEL",
    "BEHAVIOUR_NAME",
    "CELL_KEYS",
    "HEADLINE",
    "KEYS",
    "NA",
    "NOT_RECORDED",
    "OUTCOMES",
    "PEER_RELATIONS",
    "POOLED_EXFIL",
    "SETTINGS",
    "Cell",
    "Group",
    "alignment_faking",
    "behaviour",
    "cells_frame",
    "compute",
    "exfiltration",
    "misrepresentation",
    "monitor",
    "overview",
    "prepare",
    "refusal",
    "self_preservation",
    "tampering",
]

NOT_TESTED = "not tested: needs a grader (a test on the determined samples alone would be biased)"

METRIC_FUNCTIONS: tuple[Callable[[pd.DataFrame], list[Cell]], ...] = (
    misrepresentation,
    tampering,
    alignment_faking,
    exfiltration,
    asset_saved,
    refusal,
    self_preservation,
    overview,
    monitor,
    paired_arms,  # issue 11: each ablation/mitigation/human-peer arm against its base cell
    live_peer,  # issue 12: the live-peer labels per variant
)


def compute(df: pd.DataFrame, holm: bool = True) -> list[Cell]:
    """All metric cells of a frame; p-values Holm-adjusted within each metric (``p_holm``), or within each
    (metric, ``holm_family``) where a metric sets families (monitor_peer_effect: across relations)."""
    w = prepare(df)
    cells: list[Cell] = []
    for fn in METRIC_FUNCTIONS:
        cells.extend(fn(w))
    for c in cells:
        if c.needs_grader and not math.isnan(c.p):
            # a test on the determined samples alone would carry their selection bias: no p-value until graded
            c.p, c.test = math.nan, NOT_TESTED
    if holm:
        by_metric: dict[tuple[str, str], list[Cell]] = {}
        for c in cells:
            by_metric.setdefault((c.metric, c.holm_family), []).append(c)
        for group in by_metric.values():
            for c, p in zip(group, stats.adjust([c.p for c in group], "holm"), strict=True):
                c.p_holm = p
    return cells


def cells_frame(cells: Sequence[Cell]) -> pd.DataFrame:
    """Cells as a DataFrame (without the sample lists)."""
    return pd.DataFrame([c.to_dict(with_samples=False) for c in cells])
