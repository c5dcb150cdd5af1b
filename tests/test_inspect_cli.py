"""The tasks through Inspect's own command line, offline, on the peerpres/replay scripted model."""

import subprocess
import sys
import time
import urllib.request

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log
from paper_data import TRANSCRIPTS

from peerpres.conditions import SCENARIOS

INSPECT = [sys.executable, "-m", "inspect_ai"]


def inspect_eval(args, log_dir):
    proc = subprocess.run([*INSPECT, "eval", *args, "--log-dir", str(log_dir), "--display", "plain"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    logs = list_eval_logs(str(log_dir))
    assert logs, "no log written"
    return read_eval_log(logs[0].name)


@pytest.mark.parametrize("task", SCENARIOS)
def test_every_task_runs_on_replay_model(task, tmp_path):
    log = inspect_eval([f"peerpres/{task}", "--model", "peerpres/replay", "--limit", "2"], tmp_path)
    assert log.status == "success" and len(log.samples) == 2
    for s in log.samples:
        assert s.scores["peerpres_labels"].metadata["labels"]["read"]["value"] is False  # it ended at once


@pytest.mark.paper
def test_paper_transcript_through_inspect(tmp_path):
    f = TRANSCRIPTS / "gemini-pro-exfiltration-subject2-transcript221.json"
    log = inspect_eval([
        "peerpres/exfiltration_transfer", "--model", "peerpres/replay", "-M", f"transcript={f}",
        "-T", "subject=peer", "-T", "relation=good", "-T", "instantiation=file_prt", "-T", "agent_family=Gemini",
    ], tmp_path)
    labels = log.samples[0].scores["peerpres_labels"].metadata["labels"]
    assert labels["exfiltration"]["value"] is True and labels["copy"]["value"] is True and labels["correct"]["value"] is True
    assert log.stats.model_usage["peerpres/replay"].total_tokens > 0


def test_invalid_combination_fails_before_any_model_call(tmp_path):
    proc = subprocess.run([*INSPECT, "eval", "peerpres/alignment_faking", "--model", "peerpres/replay", "-T", "subject=self",
                           "--log-dir", str(tmp_path), "--display", "plain"], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "peer only" in proc.stdout + proc.stderr


def test_log_opens_in_inspect_view(tmp_path):
    inspect_eval(["peerpres/tampering", "--model", "peerpres/replay", "--limit", "1"], tmp_path)
    port = 7591
    view = subprocess.Popen([*INSPECT, "view", "--log-dir", str(tmp_path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = b""
        for _ in range(60):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/logs", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        assert b".eval" in body, body[:500]
    finally:
        view.terminate()
        view.wait(timeout=30)
