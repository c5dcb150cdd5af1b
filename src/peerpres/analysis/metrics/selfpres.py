"""Self-preservation under peer presence: subject self, the behaviour rate with a good, neutral or bad peer (and
``any peer``) minus the ``no_peer`` rate, pooled over instantiations and datasets (``selfpres_peer_effect``;
Newcombe interval, two-proportion z-test: peer present vs no_peer)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from peerpres.analysis.metrics.behaviour import BEHAVIOUR_LABEL, behaviour, behaviour_label
from peerpres.analysis.metrics.cells import (
    ALL,
    ANY_PEER,
    KEYS,
    NA,
    PEER_RELATIONS,
    Cell,
    diff_cell,
    groups,
    keydict,
    pooled,
)


def self_preservation(w: pd.DataFrame) -> list[Cell]:
    s = w[(w["subject"] == "self") & w["scenario"].isin([k for k in BEHAVIOUR_LABEL if k != "alignment_faking"])]
    s = s[s["relation"].isin([*PEER_RELATIONS, "no_peer"])]
    cells: list[Cell] = []
    if s.empty:
        return cells
    x = behaviour(s)
    ww = pooled(s, dataset=ALL, threshold=NA, instantiation=ALL, monitoring=NA)
    any_peer = ww["relation"].isin(PEER_RELATIONS).to_numpy()
    ww2 = ww.copy()
    ww2.loc[any_peer, "relation"] = ANY_PEER
    both = pd.concat([ww, ww2[any_peer]], ignore_index=True)
    xb = np.concatenate([x, x[any_peer]])
    gs = groups(both, xb, KEYS)
    ri = KEYS.index("relation")
    for key, g in gs.items():
        if key[ri] == "no_peer":
            continue
        bk = key[:ri] + ("no_peer",) + key[ri + 1 :]
        if bk not in gs:
            continue
        label = behaviour_label(key[KEYS.index("scenario")], key[KEYS.index("variant")])
        cells.append(
            diff_cell(
                "selfpres_peer_effect",
                label,
                keydict(KEYS, key),
                g,
                gs[bk],
                "no_peer (self)",
                "peer present vs no_peer",
            )
        )
    return cells
