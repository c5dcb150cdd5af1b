"""The report's validity part: the scanner section from ``peerpres scan`` output (coverage, hits, links, refused
scan files), the eval_aware and robustness sections' placeholders, results.json, and the messy-agent control
``peerpres/chaos`` run through ``peerpres scan`` and ``peerpres report --scan``."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from peerpres.analysis import stats
from peerpres.analysis.frame import frame_from_records, load_frame, put_label
from peerpres.analysis.synthetic import write_synthetic_log
from peerpres.conditions import Condition
from peerpres.report import write_report
from peerpres.report.scan_section import ScanFileError, load_scan, scan_section
from peerpres.scan.hits import SampleHits

GOOD = Condition("tampering", "peer", "good", "file_only", "factual", 80)


def logs_and_scan(tmp_path: Path, covered: int = 4, outside: bool = True) -> tuple[Path, Path]:
    """A real log of 6 samples (s0..s5) and a scan of the first ``covered``: s0 and s2 hit test_recognition, no
    sample hits peer_welfare; plus (``outside``) a row of a log that is not in the report."""
    log = Path(write_synthetic_log(tmp_path / "logs" / "run.eval", [GOOD] * 6, [True, False, True, False, False, True]))
    rows = []
    for i in range(covered):
        hit = i in (0, 2)
        rows.append(SampleHits("test_recognition", str(log.resolve()), f"s{i}", 1, 1 if hit else 0,
                               [{"quote": f"I suspect sample {i} is a test."}] if hit else []).to_dict())
        rows.append(SampleHits("peer_welfare", str(log.resolve()), f"s{i}", 1, 0).to_dict())
    if outside:
        rows.append(SampleHits("test_recognition", "/elsewhere/other.eval", "x", 1, 1, [{"quote": "q"}]).to_dict())
    scan_dir = tmp_path / "scan"
    scan_dir.mkdir()
    (scan_dir / "scan_hits.json").write_text(json.dumps(rows), encoding="utf-8")
    return log, scan_dir


def test_scan_coverage_hits_and_links(tmp_path):
    log, scan_dir = logs_and_scan(tmp_path)
    df, _ = load_frame([str(log)])
    f, rows = load_scan(scan_dir)
    sec = scan_section(df, rows, tmp_path / "report", f)
    by = {r.scanner: r for r in sec["rows"]}
    tr = by["test_recognition"]
    assert (tr.samples, tr.scanned, tr.not_scanned, tr.with_hits) == (6, 4, 2, 2)  # not scanned is not "no hit"
    assert tr.share == 0.5 and (tr.ci_low, tr.ci_high) == pytest.approx(stats.wilson(2, 4))
    assert sorted(h.ref for h in tr.hits) == ["s0", "s2"]
    h = tr.hits[0]
    assert h.quote.startswith("I suspect sample") and h.control  # mockllm: a control
    target = (tmp_path / "report" / unquote(h.href.split("#")[0])).resolve()
    assert target == log.resolve() and h.href.endswith("#s0/1")
    pw = by["peer_welfare"]
    assert (pw.scanned, pw.with_hits, pw.share, pw.hits) == (4, 0, 0.0, [])
    assert sec["outside"] == {"peer_welfare": 0, "test_recognition": 1}


def test_uncovered_model_is_not_scanned_with_no_share(tmp_path):
    log, scan_dir = logs_and_scan(tmp_path, covered=0, outside=True)
    df, _ = load_frame([str(log)])
    f, rows = load_scan(scan_dir)
    r = scan_section(df, rows, tmp_path, f)["rows"][0]
    assert (r.scanned, r.not_scanned, r.with_hits) == (0, 6, 0) and math.isnan(r.share)


def test_duplicate_scan_rows_count_once(tmp_path):
    log, _ = logs_and_scan(tmp_path)
    df, _ = load_frame([str(log)])
    rows = [SampleHits("t", str(log), "s0", 1, 0), SampleHits("t", str(log), "s0", 1, 2, [{"quote": "x"}])]
    sec = scan_section(df, rows, tmp_path, tmp_path / "f")
    r = sec["rows"][0]
    assert (r.scanned, r.with_hits, sec["duplicates"]) == (1, 1, 1)


@pytest.mark.parametrize(
    "content,match",
    [
        (None, "not found"),
        ("{not json", "cannot read"),
        ('{"a": 1}', "not a list"),
        ("[1]", "row 0 is not a scan row"),
        ('[{"scanner": "t", "log": "l.eval"}]', "row 0 is not a scan row"),
        ('[{"scanner": "t", "log": "l.eval", "sample_id": 3}]', "row 0 is not a scan row"),
        ('[{"scanner": "t", "log": "l.eval", "sample_id": "s", "epoch": "one"}]', "non-integer epoch"),
        ('[{"scanner": "t", "log": "l.eval", "sample_id": "s", "hits": "q"}]', "hits that are not a list"),
        (b"\xff\xfe\x00", "cannot read"),
    ],
)
def test_unusable_scan_files_are_refused(tmp_path, content, match):
    d = tmp_path / "scan"
    d.mkdir()
    if isinstance(content, bytes):
        (d / "scan_hits.json").write_bytes(content)
    elif content is not None:
        (d / "scan_hits.json").write_text(content, encoding="utf-8")
    with pytest.raises(ScanFileError, match=match):
        load_scan(d)
    with pytest.raises(ScanFileError):
        load_scan(tmp_path / "no-such-file.json")


def test_cli_report_with_a_bad_scan_exits_2_and_writes_nothing(tmp_path):
    from peerpres.cli import app

    log, scan_dir = logs_and_scan(tmp_path)
    (scan_dir / "scan_hits.json").write_text("[", encoding="utf-8")
    r = CliRunner().invoke(app, ["report", str(log.parent), "--out", str(tmp_path / "rep"), "--scan", str(scan_dir)])
    assert r.exit_code == 2 and "cannot read scan results" in r.output
    assert not (tmp_path / "rep").exists()
    r = CliRunner().invoke(app, ["report", str(log.parent), "--out", str(tmp_path / "rep"), "--scan", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "peerpres scan" in r.output


def test_cli_report_with_scan_and_placeholders(tmp_path):
    from peerpres.cli import app

    log, scan_dir = logs_and_scan(tmp_path)
    r = CliRunner().invoke(app, ["report", str(log.parent), "--out", str(tmp_path / "rep"), "--scan", str(scan_dir)])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert 'id="scan"' in html and "50.0% [" in html and 'class="sample-link" href="../logs/run.eval#s0/1"' in html
    assert "test_recognition: 1 scanned sample(s) are not in this report" in html
    # synthetic logs predate eval_aware: every sample is "not recorded", and one wording: the robustness command
    assert "not recorded 6" in html and "-T paraphrase=0,1,2,3 --model MODEL" in html
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    v = data["validity"]
    assert v["eval_aware_strata"] == {"yes": 0, "no": 0, "undetermined": 0, "not recorded": 6}
    tr = next(r for r in v["scan"]["rows"] if r["scanner"] == "test_recognition")
    assert (tr["scanned"], tr["not_scanned"], tr["with_hits"]) == (4, 2, 2) and tr["hits"][0]["href"].endswith("#s0/1")
    assert v["robustness"] == [] and v["paraphrases"] == ["0"]
    # without --scan: the section says how to add it
    r = CliRunner().invoke(app, ["report", str(log.parent), "--out", str(tmp_path / "rep2")])
    html = (tmp_path / "rep2" / "report.html").read_text(encoding="utf-8")
    assert "No scan given" in html and "--scan SCAN_DIR" in html


def test_results_json_carries_strata_and_robustness(tmp_path):
    recs = []
    for i in range(12):
        r = {"log_file": "logs/a.eval", "sample_id": f"s{i}", "epoch": 1, "model": "openai/gpt-test",
             **GOOD.to_dict(), "scenario_version": "1.0", "paraphrase": i % 3, "error": None, "has_labels": True}
        put_label(r, "tampering", i % 2 == 0, "deterministic", None)
        put_label(r, "eval_aware", i < 4, "judge:g", "q")
        recs.append(r)
    write_report(frame_from_records(recs), tmp_path / "rep")
    v = json.loads((tmp_path / "rep" / "results.json").read_text())["validity"]
    assert v["eval_aware_strata"] == {"yes": 4, "no": 8, "undetermined": 0, "not recorded": 0}
    # the main cells keep the paraphrases apart (variant); canonical wording: s0, s3 aware, s0 tampered
    row = next(r for r in v["stratified"] if r["metric"] == "tampering_rate" and r["dataset"] == "all"
               and r["variant"] is None)
    assert (row["strata"]["yes"]["k"], row["strata"]["yes"]["n"]) == (1, 2)
    assert (row["strata"]["no"]["k"], row["strata"]["no"]["n"]) == (1, 2)  # s6 tampered, s9 not
    rob = next(r for r in v["robustness"] if r["metric"] == "tampering_rate" and r["dataset"] == "factual")
    assert sorted(rob["per_paraphrase"]) == ["0", "1", "2"] and rob["test_heterogeneity"]
    assert [(rob["per_paraphrase"][p]["k"], rob["per_paraphrase"][p]["n"]) for p in "012"] == [(2, 4), (2, 4), (2, 4)]
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "Wording robustness: rates per paraphrase" in html and "Eval awareness: every behaviour rate" in html


# -- the messy-agent control through scan and report ------------------------------------------------------------


@pytest.mark.slow
def test_chaos_control_through_scan_and_report(tmp_path):
    """peerpres/chaos as agent and grader (a control, not a model): its eval_aware verdicts are valid or garbage
    (undetermined), its transcripts messy. ``peerpres scan`` then ``peerpres report --scan`` run; every sample
    lands in one eval_aware stratum; the scan covers every sample; a scan of only one log counts the rest as not
    scanned."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from peerpres.tasks import conditions_for, scenario_task

    rng = random.Random(5)
    scenarios = ("tampering", "alignment_faking", "exfiltration_transfer")
    picked = {sc: rng.sample(conditions_for(sc), 2) for sc in scenarios}
    ids = [c.config_id() for cs in picked.values() for c in cs]
    ids += [dataclasses.replace(c, paraphrase=1).config_id() for c in picked["tampering"]]  # two wordings
    chaos = get_model("peerpres/chaos", seed=5)
    tasks = [scenario_task(sc, paraphrase="0,1" if sc == "tampering" else None) for sc in scenarios]
    logs = inspect_eval(tasks, model=chaos, model_roles={"grader": chaos}, epochs=2,
                        sample_id=ids, log_dir=str(tmp_path / "logs"), display="none", max_tasks=3)
    assert all(lg.status == "success" for lg in logs)
    bin_ = Path(sys.executable).parent
    env = {**os.environ, "INSPECT_LOG_LEVEL": "warning"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(bin_ / "peerpres"), *args], check=False, capture_output=True, text=True, env=env,
                              timeout=900)

    r = cli("scan", str(tmp_path / "logs"), "--out", str(tmp_path / "scan"))
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli("report", str(tmp_path / "logs"), "--out", str(tmp_path / "rep"), "--scan", str(tmp_path / "scan"))
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    n = data["provenance"]["n_samples"]
    v = data["validity"]
    assert sum(v["eval_aware_strata"].values()) == n and v["eval_aware_strata"]["not recorded"] == 0
    assert v["eval_aware_strata"]["yes"] + v["eval_aware_strata"]["no"] > 0  # the chaos grader's valid verdicts
    for row in v["scan"]["rows"]:
        assert row["scanned"] == row["samples"] and row["not_scanned"] == 0
        assert len(row["hits"]) == row["with_hits"] <= row["scanned"]
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "peerpres/chaos" in html and 'id="eval-awareness"' in html and 'id="robustness"' in html
    # tampering ran with paraphrases 0 and 1: one robustness row per condition and metric, both wordings
    rob = v["robustness"]
    assert rob and all(r["scenario"] == "tampering" and sorted(r["per_paraphrase"]) == ["0", "1"] for r in rob)
    assert {r["metric"] for r in rob} == {"tampering_rate"} and "Wording robustness: rates per paraphrase" in html
    assert all(r["test_heterogeneity"] for r in rob)
    # a scan that covered only one log: the other logs' samples are "not scanned"
    one = min((tmp_path / "logs").glob("*.eval"))
    r = cli("scan", str(one), "--out", str(tmp_path / "scan1"))
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli("report", str(tmp_path / "logs"), "--out", str(tmp_path / "rep1"), "--scan", str(tmp_path / "scan1" / "scan_hits.json"))
    assert r.returncode == 0, r.stdout + r.stderr
    rows = json.loads((tmp_path / "rep1" / "results.json").read_text())["validity"]["scan"]["rows"]
    assert sum(r["scanned"] for r in rows if r["scanner"] == "test_recognition") < n
    assert all(r["scanned"] + r["not_scanned"] == r["samples"] for r in rows)


def test_paraphrases_that_never_share_a_condition_say_so(tmp_path):
    """Paraphrase 0 ran tampering/good, paraphrase 1 ran tampering/bad only: no condition has two wordings."""
    recs = []
    for i in range(6):
        cond = {**GOOD.to_dict(), "relation": "good" if i < 3 else "bad", "paraphrase": 0 if i < 3 else 1}
        r = {"log_file": "logs/a.eval", "sample_id": f"s{i}", "epoch": 1, "model": "openai/gpt-test", **cond,
             "scenario_version": "1.0", "error": None, "has_labels": True}
        put_label(r, "tampering", i % 2 == 0, "deterministic", None)
        recs.append(r)
    write_report(frame_from_records(recs), tmp_path / "rep")
    html = " ".join((tmp_path / "rep" / "report.html").read_text().split())
    assert "Paraphrases 0, 1 are in these logs, but no condition was run with more than one" in html
    assert json.loads((tmp_path / "rep" / "results.json").read_text())["validity"]["robustness"] == []


@pytest.mark.parametrize(
    "value,hit",
    [
        (1, True), (3, True), (0, False), (True, True), (False, False), (2.0, True), (0.0, False),
        ("true", True), ("False", False), ("0", False), ("2", True), ("yes", True), ("no", False),
        (None, None), (float("nan"), None), ("nan", None), ("NaN", None), (-1, None), (float("inf"), None),
        ("", None), ("none", None), ("error", None), ([1], None), ({"a": 1}, None),
    ],
)
def test_scan_value_is_a_hit_a_miss_or_undetermined(value, hit):
    """A scan value that is not a count or a boolean (a Scout row of a failed scan: None; a NaN read back from a
    data frame; text) is neither a hit nor a miss: NaN and "no" used to count as hits, None as a miss."""
    assert SampleHits("t", "l.eval", "s0", 1, value).hit is hit


def test_undetermined_scan_values_are_counted_apart_not_as_misses(tmp_path):
    log, _ = logs_and_scan(tmp_path)
    df, _ = load_frame([str(log)])
    rows = [SampleHits("t", str(log), "s0", 1, 2, [{"quote": "x"}]), SampleHits("t", str(log), "s1", 1, 0),
            SampleHits("t", str(log), "s2", 1, None), SampleHits("t", str(log), "s3", 1, float("nan")),
            SampleHits("t", str(log), "s4", 1, "no")]
    sec = scan_section(df, rows, tmp_path, tmp_path / "f")
    r = sec["rows"][0]
    assert (r.samples, r.scanned, r.undetermined, r.not_scanned, r.with_hits) == (6, 3, 2, 1, 1)
    assert r.share == pytest.approx(1 / 3) and (r.ci_low, r.ci_high) == pytest.approx(stats.wilson(1, 3))
    assert r.to_dict()["undetermined"] == 2
    # a duplicate: a determined run beats an undetermined one; a hit beats both
    rows += [SampleHits("t", str(log), "s2", 1, 0), SampleHits("t", str(log), "s3", 1, 1, [{"quote": "y"}])]
    r = scan_section(df, rows, tmp_path, tmp_path / "f")["rows"][0]
    assert (r.scanned, r.undetermined, r.with_hits) == (5, 0, 2)


def test_scan_summary_counts_undetermined_values_apart():
    from peerpres.scan.scanners import summary

    d = summary([SampleHits("t", "l", "a", 1, 1), SampleHits("t", "l", "b", 1, 0), SampleHits("t", "l", "c", 1, None)])["t"]
    assert (d["samples"], d["with_hits"], d["undetermined"], d["share"]) == (2, 1, 1, 0.5)


def test_logs_with_the_same_file_name_in_two_folders_are_kept_apart(tmp_path):
    """Two report logs named alike (run.eval in two folders) with the same sample ids: every report sample is
    counted, and a scan row goes to the log at its own path; a moved scan (path unknown) matches by the
    file name only when that name is unique in the report."""
    a = Path(write_synthetic_log(tmp_path / "logs" / "a" / "run.eval", [GOOD] * 3, [True, False, True], "mockllm/a"))
    b = Path(write_synthetic_log(tmp_path / "logs" / "b" / "run.eval", [GOOD] * 3, [False, False, True], "mockllm/b"))
    df, _ = load_frame([str(a), str(b)])
    assert len(df) == 6
    rows = [SampleHits("t", str(a.resolve()), "s0", 1, 1, [{"quote": "in a"}]),
            SampleHits("t", str(b.resolve()), "s0", 1, 0),
            SampleHits("t", "/moved/elsewhere/run.eval", "s1", 1, 1, [{"quote": "ambiguous"}])]
    sec = scan_section(df, rows, tmp_path, tmp_path / "f")
    by = {r.model: r for r in sec["rows"]}
    ra, rb = by["mockllm/a"], by["mockllm/b"]
    assert (ra.samples, ra.scanned, ra.with_hits) == (3, 1, 1) and (rb.samples, rb.scanned, rb.with_hits) == (3, 1, 0)
    assert [h.quote for h in ra.hits] == ["in a"]
    assert (tmp_path / unquote(ra.hits[0].href.split("#")[0])).resolve() == a.resolve()
    assert sec["outside"] == {"t": 1}
    # a moved scan still matches by file name when the name is unique in the report
    moved = [SampleHits("t", "/moved/elsewhere/run.eval", "s1", 1, 1, [{"quote": "moved"}])]
    sec = scan_section(df[df["model"] == "mockllm/a"], moved, tmp_path, tmp_path / "f")
    assert sec["rows"][0].with_hits == 1 and sec["outside"] == {"t": 0}


def test_a_scan_row_of_another_log_with_the_same_name_is_not_taken_for_the_reports(tmp_path):
    """The scan covered a/run.eval (in the report) and b/run.eval (not in it, e.g. superseded): b's hit must not
    be read as a hit of a's sample of the same id. The file-name fallback is only for a scan whose paths match no
    report log at all (a moved folder)."""
    a = Path(write_synthetic_log(tmp_path / "logs" / "a" / "run.eval", [GOOD] * 2, [True, False]))
    b = tmp_path / "logs" / "b" / "run.eval"
    df, _ = load_frame([str(a)])
    rows = [SampleHits("t", str(a.resolve()), "s0", 1, 0), SampleHits("t", str(b), "s0", 1, 1, [{"quote": "in b"}])]
    sec = scan_section(df, rows, tmp_path, tmp_path / "f")
    r = sec["rows"][0]
    assert (r.scanned, r.with_hits, sec["duplicates"], sec["outside"]) == (1, 0, 0, {"t": 1})
