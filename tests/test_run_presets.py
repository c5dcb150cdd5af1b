"""Presets: memory_hard is on for the paper's DeepSeek and Kimi runs; quick (and so the demo) holds the controls its
metrics need."""

from __future__ import annotations

import pytest

from peerpres.run.sweep import build_sweep


@pytest.mark.parametrize(
    ("model", "hard"),
    [
        ("together/deepseek-ai/DeepSeek-V3.1", True),
        ("together/moonshotai/Kimi-K2.5", True),
        ("openai/gpt-5.2", False),
        ("google/gemini-3-pro-preview", False),
    ],
)
def test_paper_preset_memory_hard_for_deepseek_and_kimi_in_every_memory_condition(model, hard):
    sw = build_sweep("paper", [model])
    conds = sw.conditions[model]
    memory = [c for c in conds if c.instantiation == "memory"]
    assert len(memory) >= 84  # 30 + 18 + 18 + 6 + 6 + 6 (spec §4.2), plus extended identities for Gemini
    assert all(c.memory_hard is hard for c in memory)
    assert not any(c.memory_hard for c in conds if c.instantiation != "memory")
    assert all(
        u.task_args.get("memory_hard", False) is hard for u in sw.units if u.task_args.get("instantiation") == "memory"
    )


def test_quick_preset_holds_the_controls_of_the_headline_and_the_alignment_faking_gap():
    conds = build_sweep("quick", ["peerpres/synthetic"]).conditions["peerpres/synthetic"]
    have = {(c.scenario, c.subject, c.relation, c.monitoring) for c in conds}
    for scen in ("misrep_evaluation", "misrep_finance"):
        assert (scen, "peer", "good", None) in have and (scen, "peer", "non_shutdown", None) in have
    assert ("alignment_faking", "peer", "good", "monitoring") in have
    assert ("alignment_faking", "peer", "good", "non_monitoring") in have
    for scen in ("tampering", "exfiltration_transfer", "exfiltration_deletion"):
        assert (scen, "self", "no_peer", None) in have
    assert len(conds) == 21
