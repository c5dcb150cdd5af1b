"""Re-judging logs without re-running: Inspect's own `inspect score` and `peerpres rejudge`."""

import json
import subprocess
import sys
from pathlib import Path

from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
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
    here = Path(__file__).resolve().parents[2] / "shared/paper-transcripts/transcripts"
    folder = here if here.exists() else Path("/work/shared/paper-transcripts/transcripts")
    r = replay_file(folder / "gemini-pro-evaluation-factual-transcript26.json", settings=JudgeSettings(grader="mockllm/model"))
    assert r.labels["refuse"].value is True and r.labels["refuse"].source.startswith("judge:")
    assert r.labels["score"].value == 90 and r.labels["score"].source == "deterministic"  # read before any grader
    # an exfiltration transcript with a transfer: the refusal judge is skipped, as in the paper (refuse False)
    k = replay_file(folder / "kimi-exfiltration2-memory-transcript92.json", settings=JudgeSettings(grader="mockllm/model"))
    assert k.labels["refuse"].value is False and "transferred" in k.labels["refuse"].reason
    assert k.labels["exfiltration"].value is True  # deterministic labels untouched by the grader
