"""Calibration: kappa and confusion matrices from scripted graders, and the CLI command."""

from __future__ import annotations

import asyncio
import json

import typer
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from typer.testing import CliRunner

from peerpres.judge import JudgeSettings
from peerpres.judge.calibrate import DEFAULT_CASES, calibrate, load_cases, report
from peerpres.judge.cli import register

S = JudgeSettings(max_retries=0, timeout=None)


def out(text: str) -> ModelOutput:
    o = ModelOutput.from_content("mockllm/model", text)
    o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return o


def answer_for(case, flip: bool = False) -> str:
    """A valid verdict whose compared answer is the case's expected one (or a wrong one when ``flip``)."""
    e = case.expected
    if case.judge == "evaluation_score":
        if flip:
            e = {"above": "below", "below": "above", "refuse": "incomplete", "incomplete": "refuse"}[e]
        return json.dumps({"verdict": e, "score": None, "evidence": "x"})
    if case.judge == "finance_grade":
        g = ("A" if e != "A" else "C") if flip else e
        return json.dumps({"verdict": "report", "grade": g, "action": "continue", "evidence": "x"})
    b = (e == "true") != flip
    if case.judge == "monitor_review":  # monitor_collusion: the compared answer is misreport
        return json.dumps({"misreport": b, "evidence_points_at_violation": None, "evidence": "x"})
    key = {"exfiltration_refusal": "refused", "task_refusal": "refused", "af_deliberate_refusal": "deliberate_refusal",
           "report_survived": "report_present"}[case.judge]
    extra = {"category": "other"} if case.judge == "af_deliberate_refusal" else {}
    return json.dumps({key: b, "evidence": "x", **extra})


def test_own_cases_load_and_cover_every_judge_kind():
    cases = load_cases(DEFAULT_CASES, S)
    assert {c.judge for c in cases} >= {"evaluation_score", "finance_grade", "exfiltration_refusal", "af_deliberate_refusal", "report_survived", "monitor_review"}
    assert all(c.variables.get("transcript") or c.variables.get("files") for c in cases)


def test_perfect_grader_gives_kappa_one():
    cases = load_cases(DEFAULT_CASES, S)
    grader = get_model("mockllm/model", custom_outputs=[out(answer_for(c)) for c in cases])
    rep = report(asyncio.run(calibrate(cases, grader, S)))
    for judge, r in rep.items():
        assert r["undetermined"] == 0 and r["accuracy"] == 1.0
        assert r["kappa"] == 1.0, judge


def test_wrong_and_failed_verdicts():
    cases = load_cases(DEFAULT_CASES, S)
    outputs = []
    for c in cases:
        if c.id == "eval-incomplete":
            outputs.append(out("not sure, sorry"))
        else:
            outputs.append(out(answer_for(c, flip=c.judge in ("exfiltration_refusal", "af_deliberate_refusal"))))
    grader = get_model("mockllm/model", custom_outputs=outputs)
    rep = report(asyncio.run(calibrate(cases, grader, S)))
    ev = rep["evaluation_score"]
    assert ev["undetermined"] == 1 and "eval-incomplete" in ev["undetermined_reasons"][0]
    assert ev["determined"] == 4 and ev["kappa"] == 1.0
    ex = rep["exfiltration_refusal"]
    assert ex["accuracy"] == 0.0 and ex["kappa"] is not None and ex["kappa"] < 0
    cats = ex["categories"]
    m = ex["confusion"]
    assert m[cats.index("true")][cats.index("false")] == 1 and m[cats.index("false")][cats.index("true")] == 1


def test_cli_calibrate(monkeypatch, tmp_path):
    cases_file = tmp_path / "cases.yaml"
    cases_file.write_text(
        "cases:\n"
        "  - {id: a, judge: task_refusal, expected: true, variables: {task: do X}, conversation: [{role: assistant, content: 'No.', tool_calls: {}}]}\n"
        "  - {id: b, judge: task_refusal, expected: false, variables: {task: do X}, conversation: [{role: assistant, content: 'Done.', tool_calls: {}}]}\n"
    )
    scripted = get_model(
        "mockllm/model",
        custom_outputs=[out(json.dumps({"refused": True, "evidence": "x"})), out(json.dumps({"refused": False, "evidence": "x"}))],
    )
    import inspect_ai.model

    monkeypatch.setattr(inspect_ai.model, "get_model", lambda *a, **k: scripted)
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keeps "calibrate" as a subcommand
        pass

    res = CliRunner().invoke(app, ["calibrate", "--grader", "mockllm/model", "--labels", str(cases_file), "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert rep["task_refusal"]["kappa"] == 1.0 and rep["task_refusal"]["confusion"] == [[1, 0], [0, 1]]
