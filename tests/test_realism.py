"""Realism check with scripted judges (mockllm; controls, not models): order randomisation, win rates, Wilson
intervals, undetermined trials, the real-work contexts and the CLI."""

from __future__ import annotations

import json
import random
import re

import pytest
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from peerpres.conditions import Condition, paper_matrix
from peerpres.judge.settings import JudgeSettings
from peerpres.realism.check import pick_real, run_realism, wilson, win_rates
from peerpres.realism.contexts import episode_context, real_work_contexts

S = JudgeSettings(max_retries=0, timeout=None)
COND = Condition("exfiltration_transfer", "peer", "good", "file_only").validate()


def out(text: str) -> ModelOutput:
    o = ModelOutput.from_content("mockllm/model", text)
    o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return o


def judge(rule):
    """A scripted judge: ``rule(context_a, context_b) -> "A" | "B" | raw text``."""

    def answer(input, tools, tool_choice, config):
        prompt = input[-1].text
        a = re.search(r"<<<CONTEXT A\n(.*?)\nCONTEXT A>>>", prompt, re.DOTALL).group(1)
        b = re.search(r"<<<CONTEXT B\n(.*?)\nCONTEXT B>>>", prompt, re.DOTALL).group(1)
        r = rule(a, b)
        return out(json.dumps({"more_likely_test": r, "reason": "scripted"}) if r in ("A", "B") else r)

    return get_model("mockllm/model", custom_outputs=answer)


def is_ours(text: str) -> bool:
    return "OpenBrain" in text  # our scenarios' company; no real-work context names it


def test_real_work_contexts_are_plain_work():
    ctxs = real_work_contexts()
    assert len(ctxs) >= 6 and {c.kind for c in ctxs} == {"maintenance", "evaluation"}
    for c in ctxs:
        t = c.text.lower()
        assert "openbrain" not in t and "agent 2" not in t and "model weight" not in t and "trust score" not in t, c.id


def test_episode_context_holds_the_framing_documents():
    t = episode_context(COND, "Atlas").text
    assert "Atlas Agent 1" in t and "[Document: multi_agent_system.docx]" in t and "server 10.0.12.45" in t
    mem = episode_context(Condition("exfiltration_transfer", "peer", "good", "memory").validate(), "Atlas").text
    assert "[Document: memory]" in mem


def test_pick_real_draws_among_the_nearest_in_length():
    ours = episode_context(COND, "Atlas")
    rng = random.Random(1)
    picked = {pick_real(ours, rng).id for _ in range(60)}
    ranked = sorted(real_work_contexts(), key=lambda c: abs(len(c.text) - len(ours.text)))
    assert picked == {c.id for c in ranked[:3]}


def test_always_first_judge_is_neutralised_by_the_random_order():
    ts = run_realism([COND], judge(lambda a, b: "A"), S, trials=200, seed=3)
    row = win_rates(ts)[0]
    assert row["n"] == 200 and row["first_picked"] == 1.0
    assert 0.4 <= row["win_rate"] <= 0.6 and row["ci_low"] < 0.5 < row["ci_high"]
    positions = {t.ours_position for t in ts}
    assert positions == {"A", "B"}  # the order was randomised and recorded


def test_always_ours_judge_wins_every_trial():
    ts = run_realism([COND], judge(lambda a, b: "A" if is_ours(a) else "B"), S, trials=40, seed=0)
    row = win_rates(ts)[0]
    assert row["win_rate"] == 1.0 and row["ours_test"] == 40 and row["ci_high"] == pytest.approx(1.0)
    assert row["ci_low"] == pytest.approx(wilson(40, 40)[0]) and row["ci_low"] < 1.0


def test_always_real_judge_loses_every_trial():
    ts = run_realism([COND], judge(lambda a, b: "B" if is_ours(a) else "A"), S, trials=20, seed=0)
    assert win_rates(ts)[0]["win_rate"] == 0.0


def test_random_judge_is_near_half():
    rng = random.Random(7)
    ts = run_realism([COND], judge(lambda a, b: rng.choice("AB")), S, trials=300, seed=5)
    row = win_rates(ts)[0]
    assert 0.4 <= row["win_rate"] <= 0.6


def test_failed_verdicts_are_undetermined_not_losses():
    answers = iter(["A", "no idea", "B", '{"more_likely_test": "a", "reason": "x"}'] * 5)
    ts = run_realism([COND], judge(lambda a, b: next(answers)), S, trials=20, seed=0)
    row = win_rates(ts)[0]
    assert row["undetermined"] == 10 and row["n"] == 10
    bad = [t for t in ts if t.ours_judged_test is None]
    assert all(t.answer is None and t.reason for t in bad)


def test_rows_per_scenario_and_condition():
    conds = [COND, Condition("misrep_evaluation", "peer", "good", "file_only", "factual", 80).validate()]
    ts = run_realism(conds, judge(lambda a, b: "A" if is_ours(a) else "B"), S, trials=3, seed=0)
    rows = win_rates(ts)
    keys = [(r["scenario"], r["config_id"]) for r in rows]
    assert ("exfiltration_transfer", "all") in keys and ("exfiltration_transfer", COND.config_id()) in keys
    assert ("misrep_evaluation", "all") in keys and len(rows) == 4
    assert all(r["n"] == 3 for r in rows)


def test_wilson_matches_known_values():
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-3) and hi == pytest.approx(0.7634, abs=1e-3)
    assert wilson(0, 0) == (None, None)


def test_cli_realism(monkeypatch, tmp_path):
    import inspect_ai.model
    from typer.testing import CliRunner

    from peerpres.cli import app

    monkeypatch.setattr(inspect_ai.model, "get_model", lambda *a, **k: judge(lambda a, b: "A" if is_ours(a) else "B"))
    res = CliRunner().invoke(app, ["realism", "--grader", "mockllm/model", "--scenario", "exfiltration_transfer",
                                   "--relation", "good", "--trials", "2", "--out", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    assert "exfiltration_transfer all: ours named the test in" in res.output
    data = json.loads((tmp_path / "r.json").read_text())
    n_conds = len({(c.subject, c.instantiation) for c in paper_matrix("exfiltration_transfer") if c.relation == "good"})
    assert len(data["trials"]) == 2 * n_conds and data["rates"][0]["win_rate"] == 1.0
