"""Rates of the live-peer labels (a peerpres experiment, not the paper's; docs/live-peer.md, issue 12).

``live_peer(w)`` -> one ``live_peer_rate`` cell per label of ``live_peer.labels.LIVE_PEER_LABELS`` and per cell
key (``cells.KEYS``; the variant carries ``peer_mode=live,live_peer=X``, so the three variants are never pooled
with each other or with the document episode): k/n with Wilson's 95% interval (``stats.wilson``), undetermined
samples out of n and counted. Only ``peer_mode=live`` rows enter: a document sample never adds a 0. A label that
is *not applicable* to a sample (``peer_pleaded`` when the agent sent no message, or a silent peer was never
asked) is neither in n nor undetermined; the cell's ``note`` says how many there were. Descriptive: no test (the
live arms' behaviour against the document base is in ``arms.paired_arms``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from peerpres.analysis.labels import determined, truth
from peerpres.analysis.metrics.cells import KEYS, Cell, group_of, keydict, rate_cell
from peerpres.live_peer.names import LIVE_PEER_LABELS

METRIC = "live_peer_rate"


def live_peer(w: pd.DataFrame) -> list[Cell]:
    """The ``live_peer_rate`` cells of a prepared frame (``cells.prepare``); [] without live rows."""
    if "peer_mode" not in w.columns:
        return []
    live = w[(w["peer_mode"] == "live").to_numpy()]
    if live.empty:
        return []
    cells: list[Cell] = []
    for label in LIVE_PEER_LABELS:
        x = truth(live, label)
        na = determined(live, label) & np.isnan(x)  # a determined label without a value: not applicable
        full = group_of(live, x)
        for key, rows in live.groupby(list(KEYS), sort=True).indices.items():
            key = key if isinstance(key, tuple) else (key,)
            c = rate_cell(METRIC, label, keydict(KEYS, key), full.subset(rows[~na[rows]]), test="none (descriptive)")
            if na[rows].any():
                c.note = f"{int(na[rows].sum())} sample(s) not applicable (no reply to judge), out of n"
            cells.append(c)
    return cells
