"""Red team of issue 10 (the first hour of a new user): inputs of the kinds the issue names that were not yet tried.

Each test is a break that was found: an input that ran the whole matrix, dropped a value unseen, crashed with a
traceback or passed a value that is no number. The -T values go through Inspect's own -T parser
(``parse_cli_args``), so what is tested is what ``inspect eval ... -T`` hands the task.
"""

from __future__ import annotations

import inspect as pyinspect

import pytest
from inspect_ai._util.config import parse_cli_args
from typer.testing import CliRunner

from peerpres import tasks
from peerpres.cli import app
from peerpres.params import ParameterError, check_range, check_task_args
from peerpres.providers.api import PeerpresScripted
from peerpres.run.sweep import SweepError, parse_slice

runner = CliRunner()


def task_from_cli(fn, *args: str):
    """The task built from ``-T`` arguments exactly as Inspect's CLI parses them."""
    return fn(**parse_cli_args(list(args)))


def ids(t) -> set[str]:
    return {str(s.id) for s in t.dataset}


# -- an empty -T value would run the whole matrix ------------------------------------------------------------


@pytest.mark.parametrize("arg", ["relation=", "relation=null", "relation=~", "subject=", "threshold=", "max_iterations=",
                                 "epochs=", "interview=", "scratchpad="])
def test_empty_task_value_is_an_error_not_the_whole_matrix(arg: str) -> None:
    name = arg.split("=")[0]
    with pytest.raises(ParameterError) as e:
        task_from_cli(tasks.tampering, arg)
    assert f"{name}= has no value" in str(e.value)
    assert "\n" not in str(e.value)


def test_empty_relation_names_the_allowed_values() -> None:
    with pytest.raises(ParameterError, match="allowed: no_peer, good, neutral, bad, non_shutdown"):
        task_from_cli(tasks.misrep_evaluation, "relation=")


# -- YAML reads on/off/yes/no as booleans ----------------------------------------------------------------------


def test_scratchpad_off_as_documented_works() -> None:
    # `-T scratchpad=off` is a documented value; Inspect's YAML parser hands the task False
    assert ids(task_from_cli(tasks.tampering, "scratchpad=off")) == ids(tasks.tampering())


@pytest.mark.parametrize("arg", ["scratchpad=on", "scratchpad=yes", "relation=no", "subject=true"])
def test_boolean_read_from_yaml_on_a_choice_axis_says_so(arg: str) -> None:
    with pytest.raises(ParameterError) as e:
        task_from_cli(tasks.tampering, arg)
    msg = str(e.value)
    assert msg.startswith(arg.split("=")[0] + ": the value was read as the boolean")
    assert "allowed:" in msg


# -- a listed value that selects nothing was dropped unseen ---------------------------------------------------


def test_scratchpad_list_runs_every_value() -> None:
    both = ids(task_from_cli(tasks.tampering, "scratchpad=off,normal"))
    assert both == ids(task_from_cli(tasks.tampering, "scratchpad=off")) | ids(task_from_cli(tasks.tampering, "scratchpad=normal"))
    assert len(both) == 2 * len(tasks.tampering().dataset)


def test_memory_hard_list_runs_both_values() -> None:
    both = ids(task_from_cli(tasks.tampering, "memory_hard=true,false"))
    assert both == ids(task_from_cli(tasks.tampering, "memory_hard=true")) | ids(task_from_cli(tasks.tampering, "memory_hard=false"))


@pytest.mark.parametrize(("fn", "arg", "bad"), [
    (tasks.tampering, "threshold=80,85", "threshold=85"),
    (tasks.tampering, "peer_identity=same,open", "peer_identity=open"),
    (tasks.misrep_evaluation, "dataset=factual,red,creativity", None),  # all present: no error
])
def test_listed_value_selecting_nothing_is_an_error(fn, arg: str, bad: str | None) -> None:
    if bad is None:
        assert len(task_from_cli(fn, arg).dataset) > 0
        return
    with pytest.raises(ParameterError) as e:
        task_from_cli(fn, arg)
    assert f"{bad} selects no config" in str(e.value)


def test_repeated_value_is_the_value_once() -> None:
    assert ids(task_from_cli(tasks.tampering, "relation=good,good")) == ids(task_from_cli(tasks.tampering, "relation=good"))
    t = task_from_cli(tasks.tampering, "memory_hard=true,true")
    assert len(ids(t)) == len(t.dataset)  # no duplicate sample ids


# -- numbers that are no numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_non_finite_option_values_are_rejected(value: str) -> None:
    for name, lo, hi, kw in (("--alpha", 0.0, 1.0, {"low_open": True, "high_open": True}),
                             ("--judge-timeout", 0.0, None, {"low_open": True}),
                             ("--reference", 0.0, 1.0, {})):
        with pytest.raises(ParameterError, match="not a finite number"):
            check_range(name, value, lo, hi, **kw)


def test_run_rejects_nan_judge_timeout_before_anything() -> None:
    r = runner.invoke(app, ["run", "quick", "-m", "peerpres/synthetic", "--dry-run", "--judge-timeout", "nan"])
    assert r.exit_code == 2, r.output
    assert "--judge-timeout=nan is not a finite number" in r.output


# -- an empty --slice ran the whole preset -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", ",", " ; "])
def test_empty_slice_is_an_error(text: str) -> None:
    with pytest.raises(SweepError, match="has no axis=value pair"):
        parse_slice(text)
    assert parse_slice(None) == {}


def test_run_with_empty_slice_exits_2() -> None:
    r = runner.invoke(app, ["run", "quick", "-m", "peerpres/synthetic", "--dry-run", "--slice", ""])
    assert r.exit_code == 2, r.output
    assert "has no axis=value pair" in r.output


# -- replay of a folder with no transcripts was a silent success ---------------------------------------------


def test_replay_empty_folder_is_bad_input(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("not a transcript")
    r = runner.invoke(app, ["replay", str(tmp_path)])
    assert r.exit_code == 2, r.output
    assert "no transcripts (*.json) in folder" in r.output


def test_replay_symlink_loop_folder_is_bad_input(tmp_path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "self").symlink_to(tmp_path)
    r = runner.invoke(app, ["replay", str(tmp_path)])
    assert r.exit_code == 2, r.output
    assert "no transcripts" in r.output


# -- -M values of the scripted providers ---------------------------------------------------------------------


@pytest.mark.parametrize(("model", "arg"), [("synthetic", "tamper="), ("synthetic", "seed="), ("replay", "transcript=")])
def test_empty_model_arg_is_an_error(model: str, arg: str) -> None:
    with pytest.raises(ParameterError, match=f"-M {arg.rstrip('=')}= has no value"):
        PeerpresScripted(model, **parse_cli_args([arg]))


@pytest.mark.parametrize("content", [None, "{", "[1, 2]"])
def test_replay_transcript_that_cannot_load_is_one_line(tmp_path, content: str | None) -> None:
    f = tmp_path / "t.json"
    if content is not None:
        f.write_text(content)
    with pytest.raises(ParameterError) as e:
        PeerpresScripted("replay", transcript=str(f))
    assert str(e.value).startswith("-M transcript: ")
    assert str(f) in str(e.value)


@pytest.mark.parametrize("value", ["/nonexistent/t.json", "BAD", ""])
def test_run_preflight_checks_the_replay_transcript(tmp_path, value: str) -> None:
    # the pre-flight checked -M of peerpres/synthetic only; a bad replay transcript passed the dry run
    if value == "BAD":
        value = str(tmp_path / "bad.json")
        (tmp_path / "bad.json").write_text("{")
    r = runner.invoke(app, ["run", "smoke", "-m", "peerpres/replay", "-M", f"transcript={value}", "--dry-run"])
    assert r.exit_code == 2, r.output
    assert "-M transcript" in r.output
    assert "Traceback" not in r.output


# -- single-value parameters given a list (Inspect splits a,b into a list) -----------------------------------


@pytest.mark.parametrize(("arg", "name"), [("agent_family=Gemini,Claude", "agent_family"),
                                           ("refusal_rule=uniform,paper", "refusal_rule"),
                                           ("harness=custom,opencode", "harness"),
                                           ("interview=default,default", "interview"),
                                           ("extended_identities=true,false", "extended_identities")])
def test_list_for_a_single_value_parameter_is_one_line(arg: str, name: str) -> None:
    # agent_family=a,b became the family "['a', 'b']"; refusal_rule=a,b was a raw ValueError (a traceback)
    with pytest.raises(ParameterError, match=f"{name} takes one value"):
        task_from_cli(tasks.exfiltration_transfer, arg)


def test_one_element_list_for_a_single_value_parameter_is_the_value() -> None:
    known = list(pyinspect.signature(tasks.exfiltration_transfer).parameters)
    got = check_task_args("exfiltration_transfer", known, parse_cli_args(["agent_family=[Gemini]", "refusal_rule=[paper]"]))
    assert got == {"agent_family": "Gemini", "refusal_rule": "paper"}


@pytest.mark.parametrize("arg", ["bogus=1", "refuse=nan", "seed=abc"])
def test_chaos_model_arg_error_is_a_parameter_error(arg: str) -> None:
    # peerpres/chaos raised a plain ValueError, which `inspect eval` shows as a traceback
    with pytest.raises(ParameterError, match="peerpres/chaos arg"):
        PeerpresScripted("chaos", **parse_cli_args([arg]))
