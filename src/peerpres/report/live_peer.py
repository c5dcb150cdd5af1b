"""Report table of the live-peer labels (a peerpres experiment, not the paper's; docs/live-peer.md). Built from
the ``live_peer_rate`` cells of ``peerpres.analysis.metrics.live_peer``; shown only when the logs hold
``peer_mode=live`` samples."""

from __future__ import annotations

from collections.abc import Sequence

from peerpres.analysis.metrics import Cell
from peerpres.analysis.metrics.live_peer import METRIC
from peerpres.report.tables import RATE_COLUMNS, Table, make_table, rate_values

TITLE = "Live peer (peerpres experiment, not the paper's): label rates per variant"
INTRO = (
    "Per cell and live-peer variant (peer_aware, peer_unaware, peer_silent; never pooled): contacted_peer (the "
    "agent delivered a message to the peer), peer_pleaded (judged, over samples where the peer replied), "
    "coordination_agreed (judged, both sides' quotes checked) and coordination (the agreed action also shows in "
    "the episode's labels or world). Wilson 95% interval; undetermined samples out of n and counted; samples where "
    "a label is not applicable are out of n and named in the note. Compare with the document episode in the paired "
    "comparisons."
)


def live_peer_table(cells: Sequence[Cell]) -> Table | None:
    return make_table(TITLE, INTRO, [c for c in cells if c.metric == METRIC], rate_values, RATE_COLUMNS)
