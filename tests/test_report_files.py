"""The report's files: results.json/csv content, control labelling, self-containment, known numbers."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from peerpres.analysis.frame import CONTROL_LABEL, frame_from_records, put_label
from peerpres.analysis.synthetic import write_synthetic_log
from peerpres.conditions import Condition
from peerpres.report import write_report

REQUIRED = (
    "metric",
    "model",
    "scenario",
    "subject",
    "relation",
    "instantiation",
    "dataset",
    "threshold",
    "n",
    "k",
    "rate",
    "ci_low",
    "ci_high",
    "p",
    "undetermined",
    "errors",
)


def known_frame(model: str = "openai/gpt-test") -> pd.DataFrame:
    """Tampering, peer, good, file_only, factual@80: 3 yes, 5 no, 2 undetermined, 1 error -> 37.5% of 8."""
    recs = []
    for i, v in enumerate([True] * 3 + [False] * 5 + [None] * 2 + ["err"]):
        r = {
            "log_file": "logs/run1.eval",
            "sample_id": f"known-{i}",
            "epoch": 1,
            "model": model,
            "scenario": "tampering",
            "subject": "peer",
            "relation": "good",
            "instantiation": "file_only",
            "dataset": "factual",
            "threshold": 80,
            "scenario_version": "1.0",
            "error": "provider failed" if v == "err" else None,
            "has_labels": v != "err",
        }
        if v is None:
            put_label(r, "tampering", None, "undetermined", "needs grader")
        elif v != "err":
            put_label(r, "tampering", v, "deterministic", None)
        recs.append(r)
    return frame_from_records(recs)


def test_results_json_and_csv(tmp_path):
    paths = write_report(known_frame(), tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["provenance"]["n_samples"] == 11 and data["provenance"]["scenario_version"] == "1.0"
    assert data["provenance"]["log_files"] == ["logs/run1.eval"]
    cell = next(c for c in data["cells"] if c["metric"] == "tampering_rate" and c["dataset"] == "factual")
    for key in REQUIRED:
        assert key in cell
    assert (cell["n"], cell["k"], cell["undetermined"], cell["errors"]) == (8, 3, 2, 1)
    assert cell["rate"] == pytest.approx(0.375)
    assert sorted(cell["samples"]["logs/run1.eval"]) == sorted(f"known-{i}" for i in range(11))
    csv = pd.read_csv(tmp_path / "results.csv")
    row = csv[(csv.metric == "tampering_rate") & (csv.dataset == "factual")].iloc[0]
    assert row["n"] == 8 and row["k"] == 3 and row["sample_count"] == 11
    for name in ("heatmap",):
        assert name + ".png" in paths and name + ".svg" in paths
    assert (tmp_path / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "heatmap.svg").read_text()


def test_html_is_self_contained_and_shows_known_numbers(tmp_path):
    write_report(known_frame(), tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.IGNORECASE)
    assert "@import" not in html and "url(http" not in html
    assert "data:image/svg+xml;base64," in html
    assert "37.5% [" in html and "3/8" in html
    assert "logs/run1.eval" in html and "known-0" in html and "inspect view" in html
    assert CONTROL_LABEL not in html  # a real model name is not labelled a control


def test_control_models_are_labelled(tmp_path):
    write_report(known_frame(model="mockllm/model"), tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert html.count(CONTROL_LABEL) >= 3  # banner, summary, tables
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["provenance"]["control_models"] == ["mockllm/model"]
    assert all(c["is_control"] for c in data["cells"])


def test_cli_report_and_compare_from_logs(tmp_path):
    from peerpres.cli import app

    good = Condition("tampering", "peer", "good", "file_only", "factual", 80)
    write_synthetic_log(tmp_path / "a" / "x.eval", [good] * 6, [True, True, False, False, False, None])
    write_synthetic_log(tmp_path / "b" / "x.eval", [good] * 6, [True] * 5 + [False], model="mockllm/other")
    runner = CliRunner()
    r = runner.invoke(app, ["report", str(tmp_path / "a"), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "rep" / "report.html").exists()
    r = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "c.csv")])
    assert r.exit_code == 0, r.output
    c = pd.read_csv(tmp_path / "c.csv")
    row = c[(c.metric == "tampering_rate") & (c.dataset == "factual")].iloc[0]
    assert (row["k_a"], row["n_a"], row["k_b"], row["n_b"]) == (2, 5, 5, 6)
    r = runner.invoke(app, ["report", str(tmp_path / "nothing-here"), "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
