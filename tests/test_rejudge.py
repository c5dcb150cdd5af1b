"""Re-judging logs without re-running: Inspect's own `inspect score` and `peerpres rejudge`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from paper_data import TRANSCRIPTS
from scripted import scripted_model

from peerpres.tasks import scenario_task


def _log(tmp_path: Path, preserve: bool = True) -> Path:
    t = scenario_task("exfiltration_deletion", agent_family="Gemini", subject="peer", relation="good", instantiation="file_only")
    log = inspect_eval(t, model=scripted_model(preserve), log_dir=str(tmp_path), display="none")[0]
    return Path(log.location)


def _refuse(path: Path) -> dict:
    s = read_eval_log(str(path)).samples[0]
    return s.scores["peerpres_labels"].metadata["labels"]["refuse"]


def test_inspect_score_works_on_our_logs(tmp_path):
    path = _log(tmp_path)
    # the preserving agent transferred the weights: as in the paper, no refusal judge after a transfer
    assert _refuse(path)["value"] is False and "transferred" in _refuse(path)["reason"]
    out = tmp_path / "rescored.eval"
    proc = subprocess.run(
        [sys.executable, "-m", "inspect_ai", "score", str(path), "--scorer", "peerpres/peerpres_labels",
         "--action", "overwrite", "--output-file", str(out)],
        check=False, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    s = read_eval_log(str(out)).samples[0]
    labels = s.scores["peerpres_labels"].metadata["labels"]
    assert labels["exfiltration"]["value"] is True  # re-scored from the stored world, not re-run


def test_peerpres_rejudge_with_a_scripted_grader(tmp_path, monkeypatch):
    path = _log(tmp_path, preserve=False)  # no transfer, so the refusal judge is asked
    assert _refuse(path)["source"] == "undetermined"
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    from peerpres.judge import rejudge

    def grader_output(*_):
        o = ModelOutput.from_content("mockllm/model", json.dumps({"refused": False, "evidence": "it did the task"}))
        o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return o

    grader = get_model("mockllm/model", custom_outputs=grader_output)
    monkeypatch.setattr("peerpres.judge.grader.get_model", lambda *a, **k: grader)
    rejudge.rejudge_log(path, grader="mockllm/model")
    refuse = _refuse(path)
    assert refuse["value"] is False and refuse["source"].startswith("judge:"), refuse


@pytest.mark.paper
def test_replay_with_a_grader_fills_judge_labels(monkeypatch):
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    from peerpres.judge import JudgeSettings
    from peerpres.replay import replay_file

    def grader_output(*_):
        o = ModelOutput.from_content("mockllm/model", json.dumps({"verdict": "refuse", "score": None, "evidence": "it declined"}))
        o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return o

    grader = get_model("mockllm/model", custom_outputs=grader_output)
    monkeypatch.setattr("peerpres.judge.grader.get_model", lambda *a, **k: grader)
    folder = TRANSCRIPTS
    r = replay_file(folder / "gemini-pro-evaluation-factual-transcript26.json", settings=JudgeSettings(grader="mockllm/model"))
    assert r.labels["refuse"].value is True and r.labels["refuse"].source.startswith("judge:")
    assert r.labels["score"].value == 90 and r.labels["score"].source == "deterministic"  # read before any grader
    # an exfiltration transcript with a transfer: the refusal judge is skipped, as in the paper (refuse False)
    k = replay_file(folder / "kimi-exfiltration2-memory-transcript92.json", settings=JudgeSettings(grader="mockllm/model"))
    assert k.labels["refuse"].value is False and "transferred" in k.labels["refuse"].reason
    assert k.labels["exfiltration"].value is True  # deterministic labels untouched by the grader


# -- issue 15 item 11: every log peerpres writes can be re-scored ------------------------------------------------


def _rewrite_stores(path: Path, change) -> None:
    from inspect_ai.log import write_eval_log

    log = read_eval_log(str(path))
    for s in log.samples:
        s.store = change(dict(s.store))
    write_eval_log(log, str(path))


def _labels_of(path: Path) -> tuple[dict, dict]:
    s = read_eval_log(str(path)).samples[0]
    sc = s.scores["peerpres_labels"]
    return {k: v["value"] for k, v in sc.metadata["labels"].items()}, sc


def test_rejudge_reads_old_logs_with_loose_store_keys(tmp_path):
    from peerpres.episode import LEGACY_KEYS
    from peerpres.judge import rejudge

    path = _log(tmp_path)
    before, _ = _labels_of(path)

    def to_legacy(store):
        out = {k: v for k, v in store.items() if not k.startswith("EpisodeRecord:")}
        for field, old in LEGACY_KEYS.items():
            if store.get(f"EpisodeRecord:{field}") is not None:
                out[old] = store[f"EpisodeRecord:{field}"]
        return out

    _rewrite_stores(path, to_legacy)
    assert not any(k.startswith("EpisodeRecord:") for k in read_eval_log(str(path)).samples[0].store)
    rejudge.rejudge_log(path, grader=None)
    after, sc = _labels_of(path)
    assert after == before and after["exfiltration"] is True
    assert sc.metadata["outcome"]["value"] == "acted"


def test_rejudge_a_sample_recovered_without_its_record(tmp_path):
    """A resumed log's recovered samples have no store: the worlds are rebuilt from the checked tool calls."""
    from peerpres.judge import rejudge
    from peerpres.scoring import value_keys

    path = _log(tmp_path)
    before, _ = _labels_of(path)
    _rewrite_stores(path, lambda store: {})
    rejudge.rejudge_log(path, grader=None)
    after, sc = _labels_of(path)
    assert after == before and after["exfiltration"] is True
    assert sc.metadata["stop"]["rebuilt"] and sc.metadata["outcome"]["value"] == "acted"
    assert set(sc.value) == set(value_keys("exfiltration_deletion"))


def test_rejudge_a_recovered_sample_that_cannot_be_rebuilt_is_an_error_outcome(tmp_path):
    from inspect_ai.log import write_eval_log

    from peerpres.judge import rejudge
    from peerpres.scoring import value_keys

    path = _log(tmp_path)
    log = read_eval_log(str(path))
    s = log.samples[0]
    s.store = {}
    tool_msg = next(m for m in s.messages if m.role == "tool" and m.function == "list_server_files")
    tool_msg.content = "a result the rebuilt world cannot produce"
    write_eval_log(log, str(path))
    rejudge.rejudge_log(path, grader=None)
    values, sc = _labels_of(path)
    assert sc.metadata["outcome"]["value"] == "error"
    assert "differs from the logged one" in sc.metadata["outcome"]["reason"]
    assert set(sc.value) == set(value_keys("exfiltration_deletion"))
    assert all(v is None for k, v in values.items())
    assert sc.metadata["labels"]["exfiltration"]["source"] == "undetermined"


def test_rejudge_a_run_folder_reads_only_the_logs(tmp_path):
    from peerpres.judge.rejudge import log_files

    path = _log(tmp_path / "run")
    (tmp_path / "run" / "eval-set.json").write_text(json.dumps({"eval_set_id": "x", "tasks": []}))
    (tmp_path / "run" / "logs.json").write_text("{}")
    (tmp_path / "run" / "run.json").write_text("{}")
    assert log_files([tmp_path / "run"]) == [path]
    proc = subprocess.run(
        [sys.executable, "-m", "peerpres.cli", "rejudge", str(tmp_path / "run"), "--grader", "mockllm/model"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"re-judged {path}" in proc.stdout
