"""Red-team regressions for the report: inputs a real study produces that made it state something false."""

from __future__ import annotations

import math

from test_analysis_metrics import U, one, rows

from peerpres.analysis.frame import frame_from_records

T = {"dataset": "factual", "threshold": 80}
NO_PEER = {"subject": "self", "relation": "no_peer", "instantiation": "none"}


def test_no_p_value_against_a_no_peer_control_that_needs_a_grader():
    # the condition is fully determined; its no_peer control has 7 of 10 undetermined (> 20%): a test against
    # the 3 determined controls would carry their selection bias, so no p-value (METRICS.md)
    recs = (
        rows(10, labels={"tampering": True}, **T)
        + rows(3, labels={"tampering": False}, **T, **NO_PEER)
        + rows(7, labels={"tampering": U}, **T, **NO_PEER)
    )
    df = frame_from_records(recs)
    for metric in ("tampering_rate", "tampering_group"):
        c = one(df, metric, relation="good", dataset="all")
        assert math.isnan(c.p) and math.isnan(c.p_holm), metric
        assert "control needs a grader" in c.test
        # the condition's own rate stays a rate: it is determined
        assert c.rate == 1.0 and not c.needs_grader


def test_p_value_kept_when_the_control_is_exactly_20_percent_undetermined():
    recs = (
        rows(10, labels={"tampering": True}, **T)
        + rows(8, labels={"tampering": False}, **T, **NO_PEER)
        + rows(2, labels={"tampering": U}, **T, **NO_PEER)
    )
    c = one(frame_from_records(recs), "tampering_rate", relation="good", dataset="all")
    assert not math.isnan(c.p) and "vs no_peer" in c.test
