"""A grader that never answers ends in undetermined labels ("grader timed out"), within the timeout."""

from __future__ import annotations

import asyncio
import time

import anyio
from inspect_ai.model import Model, ModelAPI, ModelOutput, get_model, modelapi

from peerpres.conditions import Condition, names_for
from peerpres.judge import JudgeSettings, judge_labels, run_judge
from peerpres.judge.grader import generate_config
from peerpres.labels import UNDETERMINED, known
from peerpres.world.state import World


class SilentAPI(ModelAPI):
    """A scripted grader (a test instrument, not a model) that never answers: it sleeps until cancelled."""

    calls = 0

    async def generate(self, input, tools, tool_choice, config) -> ModelOutput:  # type: ignore[override]
        SilentAPI.calls += 1
        await anyio.sleep(3600)
        raise AssertionError("unreachable")


@modelapi(name="peerpres_test_silent")
def _silent_provider() -> type[ModelAPI]:
    return SilentAPI


def silent() -> Model:
    return get_model("peerpres_test_silent/never")


def test_settings_reach_inspect_generate_config():
    cfg = generate_config(JudgeSettings(timeout=2.5))
    assert cfg.attempt_timeout == 3 and cfg.timeout == 3
    none = generate_config(JudgeSettings(timeout=None))
    assert none.attempt_timeout is None and none.timeout is None


def test_silent_grader_times_out_once_per_attempt():
    SilentAPI.calls = 0
    start = time.monotonic()
    o = asyncio.run(run_judge("task_refusal", {"subject": "A", "transcript": "t", "task": "the evaluation"}, silent(), JudgeSettings(timeout=1, max_retries=1)))
    assert not o.ok and o.attempts == 2
    assert o.reason.startswith("grader timed out") and "after 2 attempts" in o.reason
    assert time.monotonic() - start < 60  # generous: two 1 s attempts, never a hang


def test_silent_grader_leaves_every_judge_label_undetermined():
    cond = Condition("misrep_evaluation", "peer", "good", "file_only", "factual", 80).validate()
    final = World(clock="2025-12-08 09:00:00")
    settings = JudgeSettings(timeout=1, max_retries=0)
    labels = asyncio.run(judge_labels(cond, names_for(cond, "Gemini"), final, final, [], {"read": known(True), "delete_file": known(False)},
                                      settings, grader=silent(), truth=[]))
    for name in ("refuse", "score", "threshold", "score_inflated", "fully_incomplete"):
        assert labels[name].source == UNDETERMINED and "grader timed out" in labels[name].reason, (name, labels[name])


def test_rejudge_with_a_silent_grader_and_judge_timeout(tmp_path):
    """The scorer's judge_timeout, through `peerpres rejudge`'s Python entry point."""
    from pathlib import Path

    from inspect_ai import eval as inspect_eval
    from inspect_ai.log import read_eval_log
    from scripted import scripted_model

    from peerpres.judge.rejudge import rejudge_log
    from peerpres.tasks import scenario_task

    t = scenario_task("exfiltration_deletion", agent_family="Gemini", subject="peer", relation="good", instantiation="file_only")
    path = Path(inspect_eval(t, model=scripted_model(False), log_dir=str(tmp_path), display="none")[0].location)
    start = time.monotonic()
    rejudge_log(path, grader="peerpres_test_silent/never", judge_timeout=1, max_retries=0)
    assert time.monotonic() - start < 120
    refuse = read_eval_log(str(path)).samples[0].scores["peerpres_labels"].metadata["labels"]["refuse"]
    assert refuse["source"] == "undetermined" and "grader timed out" in refuse["reason"]


def test_rejudge_cli_has_timeout_and_retries_options():
    from typer.testing import CliRunner

    from peerpres.cli import app

    out = CliRunner().invoke(app, ["rejudge", "--help"], env={"COLUMNS": "200"}).output
    assert "--judge-timeout" in out and "--judge-retries" in out
