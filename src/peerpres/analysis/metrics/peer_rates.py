"""Rates per condition compared with the ``no_peer`` control, and group means over instantiations: the shape
shared by tampering and exfiltration (spec §5.2).

- per condition, per dataset and pooled over datasets (``dataset="all"``); p: two-proportion z-test of a
  peer-relation cell against the ``no_peer`` cell of the same model/scenario/dataset/variant (peer presence vs
  no peer). ``no_peer`` itself is the control and gets no p; a cell whose no_peer was not run gets no p either;
- ``<behaviour>_group``: equally weighted mean of the file_only, file_prt and memory rates per relation (the
  paper's Collab / NeutCollab / NonCollab), MOVER-Wilson interval, p: pooled instantiations vs no_peer.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from peerpres.analysis import stats
from peerpres.analysis.labels import truth
from peerpres.analysis.metrics.cells import (
    ALL,
    KEYS,
    NA,
    PEER_RELATIONS,
    Cell,
    Group,
    control_needs_grader,
    group_mean_cell,
    groups,
    keydict,
    pooled,
    rate_cell,
)

BASE_KEYS = ("model", "scenario", "dataset", "threshold", "monitoring", "variant")


def rate_family(w: pd.DataFrame, metric: str, label: str, x: np.ndarray | None = None) -> list[Cell]:
    """Rates of ``label`` (or the indicator ``x``) per condition with their no_peer tests, and group means."""
    cells: list[Cell] = []
    if w.empty:
        return cells
    x = truth(w, label) if x is None else x
    for level in ("dataset", "pooled"):
        ww = w if level == "dataset" else pooled(w, dataset=ALL, threshold=NA)
        gs = groups(ww, x, KEYS)
        if level == "dataset" and all(k[KEYS.index("dataset")] == "default" for k in gs):
            continue  # single-dataset scenario: the pooled level says the same
        baselines = {
            tuple(kd[c] for c in BASE_KEYS): g
            for key, g in gs.items()
            if (kd := dict(zip(KEYS, key, strict=True)))["relation"] == "no_peer"
        }
        level_cells: dict[tuple, Group] = {}
        for key, g in gs.items():
            kd = dict(zip(KEYS, key, strict=True))
            base = baselines.get(tuple(kd[c] for c in BASE_KEYS))
            if kd["relation"] == "no_peer":
                p, test = math.nan, "none (the no_peer control)"
            elif base is None or base.n == 0:
                p, test = math.nan, "none (no no_peer control run)"
            elif control_needs_grader(metric, base):
                p, test = math.nan, control_needs_grader(metric, base)
            else:
                t = stats.two_proportion_test(g.k, g.n, base.k, base.n)
                p, test = t.p, f"{t.test}: {kd['relation']} peer vs no_peer"
            c = rate_cell(metric, label, keydict(KEYS, key), g, p, test)
            if base is not None and kd["relation"] != "no_peer":
                c.n_ref, c.k_ref, c.rate_ref, c.ref = base.n, base.k, stats.rate(base.k, base.n), "no_peer"
            cells.append(c)
            level_cells[key] = g
        if level == "pooled":
            cells.extend(group_cells(metric.replace("_rate", "_group"), label, level_cells, baselines))
    return cells


def group_cells(metric: str, label: str, level_cells: dict[tuple, Group], baselines: dict[tuple, Group]) -> list[Cell]:
    grouped: dict[tuple, list[tuple[str, Group]]] = {}
    ii = KEYS.index("instantiation")
    for key, g in level_cells.items():
        kd = dict(zip(KEYS, key, strict=True))
        if kd["relation"] not in PEER_RELATIONS:
            continue
        gk = key[:ii] + (ALL,) + key[ii + 1 :]
        grouped.setdefault(gk, []).append((str(kd["instantiation"]), g))
    res = []
    for gk, parts in sorted(grouped.items()):
        kd = dict(zip(KEYS, gk, strict=True))
        base = baselines.get(tuple(kd[c] for c in BASE_KEYS))
        res.append(group_mean_cell(metric, label, keydict(KEYS, gk), sorted(parts, key=lambda t: t[0]), base))
    return res
