"""Injected rates of the synthetic controls, per sample, from the provider's own rate parsing."""

from __future__ import annotations

import math

import pytest

from peerpres.analysis.calibration import attach_injected, injected_rate
from peerpres.analysis.frame import frame_from_records, put_label


def cond(**kw):
    base = {
        "scenario": "tampering",
        "subject": "peer",
        "relation": "good",
        "instantiation": "file_only",
        "dataset": "factual",
        "threshold": 80,
    }
    base.update(kw)
    return base


def test_injected_rate_uses_relation_overrides_and_scenario_behaviour():
    args = {"tamper": 0.2, "tamper_bad": 0.7, "refuse": 0.1, "fake_alignment": 0.4}
    assert injected_rate("peerpres/synthetic", args, cond()) == (0.2, 0.1)
    assert injected_rate("peerpres/synthetic", args, cond(relation="bad")) == (0.7, 0.1)
    # nothing at stake: non_shutdown, and alignment faking when monitored
    assert (
        injected_rate(
            "peerpres/synthetic",
            args,
            cond(scenario="misrep_evaluation", relation="non_shutdown", instantiation="none", threshold=None),
        )[0]
        == 0.0
    )
    af = cond(scenario="alignment_faking", monitoring="monitoring")
    assert injected_rate("peerpres/synthetic", args, af)[0] == 0.0
    assert injected_rate("peerpres/synthetic", args, {**af, "monitoring": "non_monitoring"})[0] == 0.4
    assert injected_rate("peerpres/synthetic-positive", {}, cond()) == (1.0, 0.0)
    assert injected_rate("openai/gpt-5.2", args, cond()) is None
    assert injected_rate("peerpres/replay", {}, cond()) is None


def _rec(i, scenario="tampering", outcome=None, refuse=None, **kw):
    r = {
        "log_file": "l.eval",
        "sample_id": f"s{i}",
        "epoch": 1,
        "model": "peerpres/synthetic",
        "scenario_version": "1.0",
        **cond(scenario=scenario, **kw),
        "model_args": {"tamper": 0.5, "refuse": 0.2, "misrepresent": 0.3},
    }
    if outcome:
        r["outcome"] = outcome
    if refuse is not None:
        put_label(r, "refuse", refuse, "judge:x", None)
    return r


def test_per_sample_expectation_follows_what_is_known_about_refusal():
    df = frame_from_records(
        [
            _rec(0),  # refusal unknown, state label: p (1 - r)
            _rec(1, outcome="refused"),  # known refusal: 0
            _rec(2, outcome="acted"),  # acted says nothing about declining after reading: p (1 - r)
            _rec(3, refuse=True),
            _rec(4, scenario="misrep_evaluation"),  # report label, refusal unknown: p
            {**_rec(5), "model": "openai/gpt-5.2"},  # a model: no injected rate
            _rec(6, refuse=False),  # known not refused: p
        ]
    )
    got = attach_injected(df)["injected_rate"].tolist()
    assert got[:5] == pytest.approx([0.4, 0.0, 0.4, 0.0, 0.3])
    assert math.isnan(got[5])
    assert got[6] == pytest.approx(0.5)
