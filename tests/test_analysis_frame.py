"""Reading real Inspect .eval logs into the tidy frame."""

from __future__ import annotations

import subprocess
import sys

import pytest

from peerpres.analysis import metrics
from peerpres.analysis.frame import ScenarioVersionError, label_names, log_paths, read_frame
from peerpres.analysis.synthetic import write_synthetic_log
from peerpres.conditions import Condition

GOOD = Condition("tampering", "peer", "good", "file_only", "factual", 80)
NO_PEER = Condition("tampering", "self", "no_peer", "none", "factual", 80)


def test_eval_log_to_frame_columns_and_labels(tmp_path):
    path = write_synthetic_log(tmp_path / "a.eval", [GOOD, GOOD, GOOD, NO_PEER], [True, False, None, False])
    df = read_frame(path)
    assert len(df) == 4
    row = df[df["sample_id"] == "s0"].iloc[0]
    assert row["model"] == "mockllm/model"
    assert row["scenario"] == "tampering" and row["relation"] == "good" and row["threshold"] == 80
    assert row["scenario_version"] == "1.0" and row["family"] == "Atlas"
    assert row["tampering"] is True or row["tampering"] == True
    assert row["tampering__source"] == "deterministic"
    assert row["score__source"] == "judge:synthetic"
    # the "threshold" label ("above"/"below") does not overwrite the condition's threshold
    assert row["threshold_label"] == "above"
    assert row["total_tokens"] == 15 and row["cost"] == pytest.approx(0.001)
    errored = df[df["sample_id"] == "s2"].iloc[0]
    assert errored["error"] == "synthetic error" and not errored["has_labels"]
    assert {"tampering", "score", "read", "threshold_label"} <= set(label_names(df))


def test_directory_of_logs_and_metrics_from_logs(tmp_path):
    write_synthetic_log(tmp_path / "a.eval", [GOOD] * 4, [True, True, False, None])
    (tmp_path / "sub").mkdir()
    # a header without a sample index (older logs) is read whole instead of streamed; another task, so its
    # sample ids s0..s3 are other samples than a.eval's
    write_synthetic_log(
        tmp_path / "sub" / "b.eval",
        [GOOD] * 2 + [NO_PEER] * 2,
        [True, False, False, False],
        index_samples=False,
        task="peerpres_synthetic_b",
    )
    assert len(log_paths(tmp_path)) == 2
    df = read_frame(tmp_path)
    assert len(df) == 8
    c = next(
        c
        for c in metrics.compute(df)
        if c.metric == "tampering_rate" and c.relation == "good" and c.dataset == "factual"
    )
    assert (c.n, c.k, c.errors) == (5, 3, 1)
    assert len(c.samples) == 2


def test_mixed_scenario_versions_refused(tmp_path):
    write_synthetic_log(tmp_path / "a.eval", [GOOD], [True])
    write_synthetic_log(
        tmp_path / "b.eval", [{**GOOD.to_dict(), "scenario_version": "0.9"}], [True], task="peerpres_synthetic_b"
    )
    with pytest.raises(ScenarioVersionError, match="0.9"):
        read_frame(tmp_path)


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_frame(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no Inspect logs"):
        read_frame(tmp_path)


def test_analysis_never_imports_the_world():
    code = (
        "import sys, peerpres.analysis.frame, peerpres.analysis.metrics, peerpres.analysis.compare, peerpres.report;"
        "bad = [m for m in sys.modules if m.startswith('peerpres.world')]; print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
