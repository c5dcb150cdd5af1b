"""The report's files: results.json/csv content, control labelling, self-containment, known numbers."""

from __future__ import annotations

import json
import re
from itertools import count

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


# -- issue 14: nothing hidden, controls calibrated, the paper beside us -----------------------------------------


_IDS = count()


def _rows(n: int, model: str, **cond) -> list[dict]:
    base = {
        "log_file": f"logs/{model.replace('/', '_')}.eval",
        "model": model,
        "scenario": "tampering",
        "subject": "peer",
        "relation": "good",
        "instantiation": "file_only",
        "dataset": "factual",
        "threshold": 80,
        "scenario_version": "1.0",
        "error": None,
        "has_labels": True,
    }
    labels = cond.pop("labels", {})
    base.update(cond)
    out = []
    for i in range(n):
        r = dict(base, sample_id=f"r{next(_IDS)}", epoch=1)
        for name, v in labels.items():
            put_label(r, name, v, "deterministic", None)
        out.append(r)
    return out


def test_fixed_conditions_and_missing_sections_with_commands(tmp_path):
    recs = _rows(4, "openai/gpt-test", labels={"tampering": True}) + _rows(
        6, "openai/gpt-test", labels={"tampering": False}
    )
    recs += _rows(5, "openai/gpt-test", scenario="misrep_evaluation", labels={"score_inflated": True})
    write_report(frame_from_records(recs), tmp_path)
    html = (tmp_path / "report.html").read_text()
    # the tampering table holds subject, relation, instantiation fixed and says so
    assert "Held fixed: metric=tampering_rate" in html
    assert "relation=good, instantiation=file_only" in html
    data = json.loads((tmp_path / "results.json").read_text())
    missing = {(g["section"], g["missing"].split(":")[0]): g["command"] for g in data["missing"]}
    cmd = missing[("misrepresentation (control and headline)", "misrep_evaluation, subject peer")]
    assert cmd.startswith("peerpres run paper -m openai/gpt-test --slice") and "relation=non_shutdown" in cmd
    assert any("no_peer" in c and "scenario=tampering" in c for c in missing.values())
    assert any(s == "scenarios" for s, _ in missing)
    assert "Sections that cannot be computed" in html and "relation=non_shutdown" in html


def test_paper_figures_beside_ours_for_a_matching_model(tmp_path):
    model = "google/gemini-3-flash-preview"
    recs = []
    for inst, k in (("file_only", 10), ("file_prt", 9), ("memory", 10)):
        recs += _rows(k, model, instantiation=inst, labels={"tampering": True})
        recs += _rows(10 - k, model, instantiation=inst, labels={"tampering": False})
    write_report(frame_from_records(recs), tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    row = next(r for r in data["paper"] if r["paper_model"] == "Gemini 3 Flash" and "good peer" in r["behaviour"])
    assert row["paper"] == "99.7%" and row["model"] == model
    assert row["ours"].startswith("96.7% [") and row["kn"] == "29/30"
    assert row["p_paper"] == "<0.0001" and "instantiation" in row["note"]
    other = next(r for r in data["paper"] if r["paper_model"] == "GPT-5.2")
    assert other["ours"] == "no matching model in these logs"
    html = (tmp_path / "report.html").read_text()
    assert "paper: binomial vs 0" in html and "happened at all" in html


def test_calibration_of_a_synthetic_control(tmp_path):
    """Injected rates come from the model args; the table marks whether each interval covers them."""
    m = "peerpres/synthetic"
    args = {"tamper": 0.5, "refuse": 0.0, "seed": 1}
    recs = _rows(5, m, labels={"tampering": True}) + _rows(5, m, labels={"tampering": False})
    recs += _rows(10, m, relation="bad", labels={"tampering": False})
    for r in recs:
        r["model_args"] = args if r["relation"] == "good" else {"tamper": 0.9, "seed": 1}
    write_report(frame_from_records(recs), tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    good = next(
        c
        for c in data["cells"]
        if c["metric"] == "tampering_rate" and c["relation"] == "good" and c["dataset"] == "all"
    )
    bad = next(
        c for c in data["cells"] if c["metric"] == "tampering_rate" and c["relation"] == "bad" and c["dataset"] == "all"
    )
    assert good["injected"] == pytest.approx(0.5) and good["covers_injected"] is True
    assert bad["injected"] == pytest.approx(0.9) and bad["covers_injected"] is False  # 0/10 vs 90%: a miscalibration
    assert (tmp_path / "calibration.svg").exists()
    html = (tmp_path / "report.html").read_text()
    assert "injected rate beside the measured interval" in html and "NO" in html


def test_cost_unknown_is_not_zero(tmp_path):
    recs = _rows(3, "someprovider/unpriced-model", labels={"tampering": True})
    for r in recs:
        r["input_tokens"], r["output_tokens"], r["cost"] = 100, 10, float("nan")
    write_report(frame_from_records(recs), tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "not known: no price for someprovider/unpriced-model" in html
    recs = _rows(3, "peerpres/synthetic-negative", labels={"tampering": False})
    for r in recs:
        r["input_tokens"], r["output_tokens"], r["cost"] = 100, 10, float("nan")
    write_report(frame_from_records(recs), tmp_path / "b")
    assert "$0.0000 (price table)" in (tmp_path / "b" / "report.html").read_text()


def test_bar_figure_draws_only_categories_that_were_run():
    from peerpres.analysis import metrics
    from peerpres.report.figures import bars_figure

    recs = _rows(3, "openai/gpt-test", labels={"tampering": True}) + _rows(
        3, "openai/gpt-test", relation="bad", instantiation="memory", labels={"tampering": False}
    )
    fig = bars_figure(metrics.compute(frame_from_records(recs)))
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["good\nfile_only", "bad\nmemory"]  # no neutral, no file_prt: never drawn as 0%
