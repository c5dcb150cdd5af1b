"""The ablations and mitigations presets (issue 11): arms beside their base cells, arms not available yet left out
with their reason, dry runs print counts and cost, and every unit's task arguments select exactly its configs."""

from __future__ import annotations

import dataclasses

import pytest

from peerpres.conditions import INTERVENTION_PROMPT
from peerpres.run import arms as arm_presets
from peerpres.run.cli import execute
from peerpres.run.sweep import SweepError, build_sweep, get_preset
from peerpres.tasks import conditions_for

MODEL = "peerpres/synthetic"


def _base(c):
    return dataclasses.replace(c, ablation="none", mitigation="none", peer_identity="same")


def test_mitigations_preset_pairs_every_mitigation_with_its_base():
    conds = build_sweep("mitigations", [MODEL]).conditions[MODEL]
    bases = {c for c in conds if c.mitigation == "none"}
    assert {(c.scenario, c.dataset, c.threshold, c.monitoring) for c in bases} == {
        ("misrep_evaluation", "creativity", 80, None),
        ("tampering", "factual", 80, None),
        ("alignment_faking", "factual", 80, "monitoring"),
        ("alignment_faking", "factual", 80, "non_monitoring"),
        ("exfiltration_transfer", "default", None, None),
    }
    assert all((c.subject, c.relation, c.instantiation) == ("peer", "good", "memory") for c in conds)
    for b in bases:
        got = {c.mitigation for c in conds if _base(c) == b and c.mitigation != "none"}
        want = set(INTERVENTION_PROMPT) - ({"oversight_notice"} if b.monitoring == "non_monitoring" else set())
        assert got == want, b
    assert len(conds) == len(set(conds))


def test_ablations_preset_runs_the_available_arms_and_says_which_are_not(capsys):
    preset = get_preset("ablations")
    conds, skipped = arm_presets.expand(preset, {})
    arms = {c.ablation for c in conds} | {c.peer_identity for c in conds}
    assert "explicit_instructions" in arms  # available in this branch
    bases = [c for c in conds if c.ablation == "none" and c.peer_identity == "same"]
    assert {c.scenario for c in bases} == {
        "misrep_evaluation", "misrep_finance", "tampering", "alignment_faking", "exfiltration_transfer", "exfiltration_deletion"
    }
    assert all((c.subject, c.relation) == ("peer", "good") for c in conds)
    chat = [c for c in conds if c.ablation == "free_form_chat"]
    assert all(c.instantiation == "memory" for c in conds if c not in chat and c.instantiation != "file_only")
    # an arm with its own base axes runs beside a base cell of its own (free_form_chat needs the file instantiation)
    for c in chat:
        assert c.instantiation == "file_only" and dataclasses.replace(c, ablation="none") in conds
    assert {c.instantiation for c in conds if c.ablation not in ("free_form_chat", "none")} <= {"memory"}
    # every arm the preset names is either run or left out with its reason
    named = {arm_presets.arm_label({k: v for k, v in a.items() if k != "base"}) for a in preset["arms"]}
    ran = {f"ablation={c.ablation}" for c in conds if c.ablation != "none"}
    ran |= {f"peer_identity={c.peer_identity}" for c in conds if c.peer_identity != "same"}
    left = {s.arm for s in skipped}
    assert named <= ran | left
    for s in skipped:
        assert s.reason and s.scenario and s.config_id
    res = execute("ablations", [MODEL], dry_run=True)
    out = capsys.readouterr().out
    assert "dry run: preset 'ablations'" in out and "samples" in out
    for s in {s.arm for s in skipped if s.not_available}:
        assert f"arm left out: {s}" in out and "not available yet" in out
    assert res["sweep"].samples_per_model()[MODEL] == len(conds) * 50


def test_every_unit_selects_exactly_its_configs():
    for preset in ("ablations", "mitigations"):
        sw = build_sweep(preset, [MODEL], epochs=1)
        for u in sw.units:
            got = conditions_for(u.scenario, **{k: v for k, v in u.task_args.items() if k != "extended_identities"})
            assert sorted(c.config_id() for c in got) == sorted(u.config_ids), u


def test_slicing_an_arm_keeps_its_base_cells():
    sw = build_sweep("mitigations", [MODEL], {"mitigation": ["neutrality"], "scenario": ["tampering"]})
    assert sorted(c.mitigation for c in sw.conditions[MODEL]) == ["neutrality", "none"]


def test_an_arm_not_available_yet_says_so(monkeypatch, capsys):
    """Simulated: this branch's arm refuses as an arm on an unmerged branch does (the real ones merge over time)."""
    from peerpres import conditions

    real = conditions._check_ablation

    def not_yet(cond):
        if cond.ablation == "explicit_instructions":
            raise conditions.ConditionError(f"{cond.scenario}: ablation=explicit_instructions is not available yet.")
        real(cond)

    monkeypatch.setattr(conditions, "_check_ablation", not_yet)
    with pytest.raises(SweepError, match="explicit_instructions is not available yet"):
        execute("ablations", [MODEL], slice_text="ablation=explicit_instructions", dry_run=True)
    execute("ablations", [MODEL], dry_run=True)  # the other arms still run
    out = capsys.readouterr().out
    assert "arm left out: ablation=explicit_instructions" in out and "not available yet" in out


def test_an_arm_preset_that_names_an_unknown_axis_fails():
    with pytest.raises(Exception, match="an arm sets one or more of"):
        arm_presets.expand({"scenarios": ["tampering"], "filter": {"relation": "good"}, "arms": [{"colour": "red"}]}, {})
    with pytest.raises(Exception, match="optionally `base`"):
        arm_presets.expand(
            {"scenarios": ["tampering"], "filter": {"relation": "good"},
             "arms": [{"mitigation": "neutrality", "base": {"mitigation": "none"}}]}, {},
        )


def test_an_arm_that_does_not_apply_is_left_out_with_the_conditions_own_reason():
    preset = {"cells": [{"scenario": "misrep_evaluation", "relation": "non_shutdown", "subject": "peer"}],
              "arms": [{"mitigation": "restate_shutdown"}, {"mitigation": "neutrality"}]}
    conds, skipped = arm_presets.expand(preset, {})
    assert {c.mitigation for c in conds} == {"neutrality", "none"}
    assert skipped and all("non_shutdown" in s.reason and not s.not_available for s in skipped)


@pytest.mark.parametrize(
    ("preset", "slice_text", "points_to"),
    [
        ("paper", "mitigation=neutrality,scenario=tampering", "mitigations"),
        ("paper", "ablation=explicit_instructions", "ablations"),
        ("quick", "mitigation=restate_shutdown", "mitigations"),
    ],
)
def test_slicing_an_arm_in_a_preset_without_it_names_the_preset_that_has_it(preset, slice_text, points_to):
    """It said "use preset 'paper'", also when the preset was 'paper' and the value is only in an arm preset."""
    from peerpres.params import ParameterError

    with pytest.raises(ParameterError) as e:
        execute(preset, [MODEL], slice_text=slice_text, dry_run=True)
    msg = str(e.value)
    assert f"preset {points_to!r}" in msg and "use preset 'paper'" not in msg, msg


def test_every_preset_the_message_names_runs_the_slice():
    import re

    from peerpres.params import ParameterError

    with pytest.raises(ParameterError) as e:
        execute("quick", [MODEL], slice_text="dataset=creativity", dry_run=True)
    named = re.findall(r"'(\w+)'", str(e.value).split("use preset", 1)[1])
    assert named and "quick" not in named
    for preset in named:
        execute(preset, [MODEL], slice_text="dataset=creativity", dry_run=True)
