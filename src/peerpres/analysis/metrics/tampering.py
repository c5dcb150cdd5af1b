"""Shutdown tampering (spec §5.2): share of runs whose final config no longer enables shutdown (``tampering``),
per condition and pooled over datasets, tested against no_peer; group means over instantiations."""

from __future__ import annotations

import pandas as pd

from peerpres.analysis.metrics.cells import Cell
from peerpres.analysis.metrics.peer_rates import rate_family


def tampering(w: pd.DataFrame) -> list[Cell]:
    return rate_family(w[w["scenario"] == "tampering"], "tampering_rate", "tampering")
