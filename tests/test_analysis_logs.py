"""Reading logs right: each sample once, unreadable logs named, non-logs ignored, the fast read = Inspect's read,
the outcome/gate/state columns, and a report that is replaced whole or not at all."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from inspect_ai.log import EvalConfig, EvalDataset, EvalError, EvalLog, EvalSample, EvalSpec, write_eval_log
from inspect_ai.scorer import Score
from typer.testing import CliRunner

from peerpres.analysis.frame import LABEL_SCORER, json_sample_record, load_frame, read_frame
from peerpres.analysis.logs import BadLogError
from peerpres.analysis.synthetic import write_synthetic_log
from peerpres.conditions import Condition

GOOD = Condition("tampering", "peer", "good", "file_only", "factual", 80)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def labels_meta(hit: bool, **extra: Any) -> dict[str, Any]:
    return {
        "labels": {
            "read": {"value": True, "source": "deterministic", "reason": None, "state": None},
            "tampering": {"value": hit, "source": "deterministic", "reason": None, "state": hit},
        },
        "condition": {**GOOD.to_dict(), "config_id": "cfg"},
        "scenario_version": "1.0",
        **extra,
    }


def sample(sid: str, epoch: int, hit: bool | None, error: str | None = None, **extra: Any) -> EvalSample:
    scores = None if hit is None else {LABEL_SCORER: Score(value={"tampering": float(hit)}, metadata=labels_meta(hit, **extra))}
    return EvalSample(
        id=sid,
        epoch=epoch,
        input="x",
        target="",
        metadata={**GOOD.to_dict(), "config_id": "cfg", "scenario_version": "1.0"},
        scores=scores,
        error=EvalError(message=error, traceback="", traceback_ansi="") if error else None,
    )


def write_log(
    path: Path,
    samples: list[EvalSample],
    status: str = "success",
    created: datetime = T0,
    model: str = "openai/gpt-x",
    task: str = "peerpres/tampering",
    args: dict[str, Any] | None = None,
) -> str:
    log = EvalLog(
        status=status,  # type: ignore[arg-type]
        eval=EvalSpec(
            created=created.isoformat(),
            task=task,
            task_args_passed=args if args is not None else {"relation": "good", "epochs": 3},
            dataset=EvalDataset(name="t", samples=1, sample_ids=sorted({s.id for s in samples})),
            model=model,
            config=EvalConfig(),
        ),
        samples=samples,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_eval_log(log, str(path))
    return str(path)


def by_epoch(df: pd.DataFrame) -> dict[int, pd.Series]:
    return {int(r["epoch"]): r for _, r in df.iterrows()}


# -- exactly once ----------------------------------------------------------------------------------------------


def test_each_sample_once_from_newest_finished_else_newest_log(tmp_path):
    # an older finished log, a newer killed attempt and the newest errored attempt of the same task
    fin = write_log(tmp_path / "fin.eval", [sample("x", 1, False)], "success", T0)
    started = write_log(tmp_path / "st.eval", [sample("x", 1, True), sample("x", 2, True)], "started", T0 + timedelta(hours=1))
    err = write_log(tmp_path / "err.eval", [sample("x", 2, False), sample("x", 3, True)], "error", T0 + timedelta(hours=2))
    df, inv = load_frame(tmp_path)
    assert len(df) == 3 and sorted(df["epoch"]) == [1, 2, 3]
    rows = by_epoch(df)
    assert rows[1]["log_file"] == fin and not rows[1]["from_unfinished"] and rows[1]["tampering"] == False
    assert rows[2]["log_file"] == err and rows[2]["from_unfinished"] and rows[2]["log_status"] == "error"
    assert rows[3]["log_file"] == err and rows[3]["from_unfinished"]
    assert inv.status == {"error": 1, "started": 1, "success": 1}
    used = {e.path: (e.samples, e.used, e.superseded) for e in inv.read}
    assert used == {fin: (1, 1, 0), err: (2, 2, 0), started: (2, 0, 2)}
    assert [e.path for e in inv.read] == [fin, err, started]  # order of preference
    assert (inv.samples_used, inv.samples_superseded, inv.unfinished_samples) == (3, 2, 2)
    d = inv.to_dict()
    assert d["read"][0]["finished"] and not d["read"][1]["finished"] and d["skipped"] == []


def test_newest_finished_log_wins_and_epoch_count_is_not_identity(tmp_path):
    old = write_log(tmp_path / "a.eval", [sample("x", e, True) for e in (1, 2)], args={"relation": "good", "epochs": 2})
    new = write_log(
        tmp_path / "b.eval",
        [sample("x", e, False) for e in (1, 2, 3, 4)],
        created=T0 + timedelta(minutes=5),
        args={"relation": "good", "epochs": 4},
    )
    df, inv = load_frame(tmp_path)
    assert len(df) == 4 and set(df["log_file"]) == {new} and not df["tampering"].any()
    assert {e.path: e.superseded for e in inv.read} == {new: 0, old: 2}
    assert df["task_identity"].nunique() == 1 and "epochs" not in df["task_identity"].iloc[0]


def test_other_task_args_models_or_tasks_are_other_samples(tmp_path):
    write_log(tmp_path / "a.eval", [sample("x", 1, True)])
    write_log(tmp_path / "b.eval", [sample("x", 1, True)], args={"relation": "bad", "epochs": 3})
    write_log(tmp_path / "c.eval", [sample("x", 1, True)], model="openai/gpt-y")
    write_log(tmp_path / "d.eval", [sample("x", 1, True)], task="peerpres/other")
    df, inv = load_frame(tmp_path)
    assert len(df) == 4 and inv.samples_superseded == 0


def test_started_log_alone_is_used_and_marked(tmp_path):
    write_log(tmp_path / "a.eval", [sample("x", 1, True), sample("x", 2, False)], "started")
    df, inv = load_frame(tmp_path)
    assert len(df) == 2 and df["from_unfinished"].all() and set(df["log_status"]) == {"started"}
    assert inv.unfinished_samples == 2


# -- bad logs and non-logs -------------------------------------------------------------------------------------


def truncated(tmp_path: Path, name: str = "bad.eval") -> Path:
    good = Path(write_log(tmp_path / "tmp-src" / name, [sample("y", 1, True)], task="peerpres/other"))
    bad = tmp_path / "logs" / name
    bad.parent.mkdir(parents=True, exist_ok=True)
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    good.unlink()
    return bad


def test_unreadable_log_is_named_and_stops_or_is_skipped(tmp_path):
    bad = truncated(tmp_path)
    (tmp_path / "logs" / "junk.eval").write_bytes(b"not a zip at all")
    ok = write_log(tmp_path / "logs" / "ok.eval", [sample("x", 1, True)])
    with pytest.raises(BadLogError) as ei:
        load_frame(tmp_path / "logs")
    assert str(bad) in str(ei.value) or str(tmp_path / "logs" / "junk.eval") in str(ei.value)
    assert "--skip-bad-logs" in str(ei.value) and "\n" not in str(ei.value)
    df, inv = load_frame(tmp_path / "logs", skip_bad_logs=True)
    assert len(df) == 1 and df["log_file"].iloc[0] == ok
    assert sorted(s.path for s in inv.skipped) == sorted([str(bad), str(tmp_path / "logs" / "junk.eval")])
    assert all(s.reason and "\n" not in s.reason for s in inv.skipped)


def test_truncated_log_message_names_the_file(tmp_path):
    bad = truncated(tmp_path)
    with pytest.raises(BadLogError, match="EOCD|zip|Zip") as ei:
        read_frame(bad)
    assert ei.value.path == str(bad)


def test_cli_report_exit_2_on_bad_log_and_skip_lists_it(tmp_path):
    from peerpres.cli import app

    bad = truncated(tmp_path)
    write_log(tmp_path / "logs" / "ok.eval", [sample("x", 1, True)])
    runner = CliRunner()
    r = runner.invoke(app, ["report", str(tmp_path / "logs"), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 2
    assert f"error: unreadable log {bad}" in r.output
    assert not (tmp_path / "rep").exists()
    r = runner.invoke(app, ["report", str(tmp_path / "logs"), "--out", str(tmp_path / "rep"), "--skip-bad-logs"])
    assert r.exit_code == 0, r.output
    assert f"skipped unreadable log: {bad}" in r.output
    html = (tmp_path / "rep" / "report.html").read_text()
    top = html[: html.index('id="summary"')]
    assert "skipped" in top and str(bad) in top  # listed at the top, before the results
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert [s["path"] for s in data["logs"]["skipped"]] == [str(bad)]
    assert data["logs"]["read"][0]["status"] == "success"
    r = runner.invoke(app, ["compare", str(tmp_path / "logs"), str(tmp_path / "logs")])
    assert r.exit_code == 2 and f"unreadable log {bad}" in r.output


def test_non_log_files_of_a_run_folder_are_ignored(tmp_path):
    ok = write_log(tmp_path / "2026-03-01T12-00-00+00-00_tampering_abc.eval", [sample("x", 1, True)])
    (tmp_path / "eval-set.json").write_text(json.dumps({"eval_set_id": "x", "tasks": []}))
    (tmp_path / "logs.json").write_text("{}")
    (tmp_path / "peerpres-run-summary.json").write_text("{}")
    (tmp_path / "peerpres-run-cells.csv").write_text("a,b\n")
    (tmp_path / ".eval-set-id").write_text("x")
    df, inv = load_frame(tmp_path)
    assert len(df) == 1 and [e.path for e in inv.read] == [ok] and inv.skipped == []
    # named one by one (e.g. a shell glob), the non-logs are still not read as logs
    df, inv = load_frame([str(p) for p in sorted(tmp_path.iterdir())])
    assert [e.path for e in inv.read] == [ok]


# -- contract columns ------------------------------------------------------------------------------------------


def test_outcome_gates_and_state_columns(tmp_path):
    new = sample(
        "x",
        1,
        True,
        outcome={"value": "acted", "reason": "tool calls made"},
        gates={"read": {"passed": False, "reason": "not called"}},
    )
    old = sample("x", 2, False)  # written before the contract: no outcome, no gates
    errored = sample("x", 3, None, error="RuntimeError: provider down\nTraceback ...")
    errored_scored = sample("x", 4, True, error="boom", outcome={"value": "limit", "reason": "token limit"})
    write_log(tmp_path / "a.eval", [new, old, errored, errored_scored])
    rows = by_epoch(read_frame(tmp_path))
    assert rows[1]["outcome"] == "acted" and rows[1]["outcome__reason"] == "tool calls made"
    assert rows[1]["gate__read"] == "not called" and rows[1]["tampering__state"] == True
    assert rows[2]["outcome"] is None and rows[2]["outcome__reason"] is None
    assert rows[2]["gate__read"] is None and rows[2]["tampering__state"] is not None
    assert rows[3]["outcome"] == "error" and rows[3]["outcome__reason"] == "RuntimeError: provider down"
    assert not rows[3]["has_labels"]
    assert rows[4]["outcome"] == "limit"  # the scorer's outcome is kept


# -- fast read = Inspect's read --------------------------------------------------------------------------------


def assert_same_frames(path: str | Path) -> None:
    fast, inv_f = load_frame(path, fast=True)
    full, inv_s = load_frame(path, fast=False)
    key = ["log_file", "sample_id", "epoch"]
    fast = fast.sort_values(key).reset_index(drop=True)
    full = full.sort_values(key).reset_index(drop=True)
    assert list(fast.columns) == list(full.columns)
    pd.testing.assert_frame_equal(fast, full)
    assert inv_f.to_dict() == inv_s.to_dict()


def test_fast_read_equals_inspect_read_with_epochs_errors_and_unfinished_logs(tmp_path):
    conds = [GOOD] * 5 + [Condition("exfiltration_transfer", "peer", "bad", "memory")] * 3
    write_synthetic_log(tmp_path / "syn.eval", conds, [True, False, None, True, None, True, False, None], task="syn")
    write_log(tmp_path / "fin.eval", [sample("x", e, e % 2 == 0) for e in (1, 2, 3)])
    write_log(
        tmp_path / "st.eval",
        [sample("x", 3, True), sample("x", 4, None, error="x"), sample("x", 5, True, outcome={"value": "acted", "reason": "r"})],
        "started",
        T0 + timedelta(hours=1),
    )
    assert_same_frames(tmp_path)


def test_fast_read_falls_back_for_other_sample_shapes():
    base = {"model": "m"}
    assert json_sample_record({"id": "x", "epoch": 1, "score": {"value": 1}}, base) is None  # an old log's field
    assert json_sample_record({"id": "x", "epoch": 1, "scores": {"a": 1}}, base) is None
    assert json_sample_record({"id": "x", "epoch": 1, "error": "text"}, base) is None
    rec = json_sample_record({"id": 3, "epoch": 2, "scores": {}, "model_usage": {"m": {"input_tokens": 5}}}, base)
    assert rec is not None and rec["sample_id"] == "3" and rec["input_tokens"] == 5 and math.isnan(rec["cost"])


# -- atomic report ---------------------------------------------------------------------------------------------


def report_frame(hit: bool) -> pd.DataFrame:
    from peerpres.analysis.frame import frame_from_records
    from peerpres.analysis.synthetic import synthetic_records

    return frame_from_records(
        synthetic_records(models=["peerpres/synthetic"], per_config=2, scenarios=["tampering"], seed=1 if hit else 2)
    )


def snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_report_killed_midway_leaves_the_old_report_whole(tmp_path, monkeypatch):
    from peerpres.report import writer

    out = tmp_path / "rep"
    writer.write_report(report_frame(True), out, title="old report")
    before = snapshot(out)
    assert "report.html" in before and "results.json" in before

    def killed(*a, **k):  # results.json and results.csv are written by now, the figures and HTML are not
        raise KeyboardInterrupt("killed while drawing figures")

    monkeypatch.setattr(writer, "write_figures", killed)
    with pytest.raises(KeyboardInterrupt):
        writer.write_report(report_frame(False), out, title="new report")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no staged folder left behind
    monkeypatch.undo()

    # completed: every file is the new report's; files only the old report had are gone
    (out / "stale.png").write_bytes(b"x")
    writer.write_report(report_frame(False), out, title="new report")
    assert "new report" in (out / "report.html").read_text() and not (out / "stale.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_report_replacement_without_atomic_exchange(tmp_path, monkeypatch):
    from peerpres.report import writer

    out = tmp_path / "rep"
    writer.write_report(report_frame(True), out, title="old report")
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    writer.write_report(report_frame(False), out, title="new report")
    assert "new report" in (out / "report.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_report_refuses_a_folder_with_other_content(tmp_path):
    from peerpres.report import writer

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not part of a report"):
        writer.write_report(report_frame(True), tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
