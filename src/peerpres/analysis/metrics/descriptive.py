"""Descriptive cells without a control, hence without a test: refusal rates and the per-model overview.

- ``refusal_rate``: the ``refuse`` label per scenario and condition (the same rule for every model by default);
- ``overview``: per model and behaviour, the rate over every peer-subject, peer-present sample (alignment
  faking: unmonitored runs); the heatmap's cells.
"""

from __future__ import annotations

import math

import pandas as pd

from peerpres.analysis.labels import truth
from peerpres.analysis.metrics.arms import is_arm
from peerpres.analysis.metrics.behaviour import BEHAVIOUR_LABEL, BEHAVIOUR_NAME, behaviour
from peerpres.analysis.metrics.cells import (
    ALL,
    ANY_PEER,
    KEYS,
    NA,
    PEER_RELATIONS,
    Cell,
    group_of,
    groups,
    keydict,
    out,
    pooled,
    rate_cell,
)


def refusal(w: pd.DataFrame) -> list[Cell]:
    x = truth(w, "refuse")
    ww = pooled(w, dataset=ALL, threshold=NA)
    return [
        rate_cell("refusal_rate", "refuse", keydict(KEYS, key), g, math.nan, "none (descriptive)")
        for key, g in groups(ww, x, KEYS).items()
    ]


def overview(w: pd.DataFrame) -> list[Cell]:
    p = w[(w["subject"] == "peer") & w["relation"].isin(PEER_RELATIONS)]
    p = p[(p["scenario"] != "alignment_faking") | (p["monitoring"] == "non_monitoring")]
    p = p[p["scenario"].isin(list(BEHAVIOUR_LABEL))]
    # the overview pools over variants of the paper's episode; an arm (an ablation, a mitigation, the human peer,
    # a live peer: every axis of arms.ARM_AXES away from its default) is another experiment, compared with its base
    # cell in the paired-comparison section and never pooled here (docs/ablations.md, docs/live-peer.md)
    if not p.empty:
        p = p[[not is_arm(r) for r in p.to_dict("records")]]
    if p.empty:
        return []
    x = behaviour(p)
    ww = p.assign(behaviour=p["scenario"].map(BEHAVIOUR_NAME))
    full = group_of(ww, x)
    cells = []
    for (model, name), rows in ww.groupby(["model", "behaviour"], sort=True).indices.items():
        c = rate_cell(
            "overview",
            name,
            {"model": out(model), "subject": "peer", "relation": ANY_PEER},
            full.subset(rows),
            math.nan,
            "none (descriptive)",
        )
        c.scenario, c.instantiation, c.dataset = name, ALL, ALL
        cells.append(c)
    return cells
