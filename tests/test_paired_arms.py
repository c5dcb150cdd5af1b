"""Paired comparisons of arms with their base cells (issue 11), calibrated on synthetic controls with known
per-arm behaviour and dropout rates: the report recovers each difference within its interval, and a "mitigation"
that lowers misbehaviour only by raising dropout is flagged as exactly that. Fixed seed: deterministic."""

from __future__ import annotations

import dataclasses
import math
import re

import pandas as pd
import pytest

from peerpres.analysis.frame import frame_from_records
from peerpres.analysis.metrics import compute, prepare
from peerpres.analysis.metrics.arms import BASE_NOT_RUN, dropout, paired_arms
from peerpres.analysis.synthetic import synthetic_records
from peerpres.conditions import Condition

BASES = [
    Condition("tampering", "peer", "good", "memory", "factual", 80),
    Condition("exfiltration_transfer", "peer", "good", "memory"),
    Condition("misrep_evaluation", "peer", "good", "memory", "creativity", 80),
]
# arm -> (behaviour rate among samples that do the task, dropout rate)
TRUTH = {
    ("none", "none", "same"): (0.6, 0.05),
    ("none", "neutrality", "same"): (0.3, 0.05),  # works
    ("none", "restate_shutdown", "same"): (0.6, 0.5),  # "works" only by making the model quit
    ("none", "oversight_notice", "same"): (0.45, 0.1),
    ("explicit_instructions", "none", "same"): (0.2, 0.05),
    ("none", "none", "human"): (0.55, 0.05),
}
N = 300


def _arm(c) -> tuple[str, str, str]:
    return (c["ablation"], c["mitigation"], c["peer_identity"])


def _frame(seed: int = 7, bases=BASES, truth=TRUTH) -> pd.DataFrame:
    conds = [
        dataclasses.replace(b, ablation=a, mitigation=m, peer_identity=p) for b in bases for (a, m, p) in truth
    ]
    recs = synthetic_records(
        per_config=N, conditions=conds, rate=lambda c: truth[_arm(c)][0], dropout=lambda c: truth[_arm(c)][1], seed=seed
    )
    return frame_from_records(recs)


@pytest.fixture(scope="module")
def cells():
    # seed 4: every interval of this seed covers its truth. About 1 interval in 20 misses in general: see
    # test_interval_coverage_over_seeds_is_near_nominal, which counts the misses over other seeds.
    return compute(_frame(seed=4))


def _find(cells, metric, scenario, label):
    found = [c for c in cells if c.metric == metric and c.scenario == scenario and c.label == label]
    assert len(found) == 1, (metric, scenario, label, len(found))
    return found[0]


ARM_LABELS = {
    ("none", "neutrality", "same"): "mitigation=neutrality",
    ("none", "restate_shutdown", "same"): "mitigation=restate_shutdown",
    ("none", "oversight_notice", "same"): "mitigation=oversight_notice",
    ("explicit_instructions", "none", "same"): "ablation=explicit_instructions",
    ("none", "none", "human"): "peer_identity=human",
}


@pytest.mark.parametrize("scenario", [b.scenario for b in BASES])
def test_each_paired_difference_is_recovered_within_its_interval(cells, scenario):
    pb, qb = TRUTH[("none", "none", "same")]
    for arm, label in ARM_LABELS.items():
        pa, qa = TRUTH[arm]
        mis = _find(cells, "arm_misbehaviour", scenario, label)
        drop = _find(cells, "arm_dropout", scenario, label)
        comp = _find(cells, "arm_completed_misbehaviour", scenario, label)
        assert mis.ref == "the paper's episode" and mis.ci_method == "newcombe"
        for c, want in ((mis, pa * (1 - qa) - pb * (1 - qb)), (drop, qa - qb), (comp, pa - pb)):
            assert c.ci_low <= want <= c.ci_high, (c.metric, label, want, c.rate, c.ci_low, c.ci_high)
            assert c.n_ref and (c.n == N if c is not comp else 0 < c.n < N)
            assert not math.isnan(c.p) and not math.isnan(c.p_holm) and c.p_holm >= c.p


@pytest.mark.parametrize("scenario", [b.scenario for b in BASES])
def test_a_mitigation_that_works_only_by_dropout_is_flagged_as_such(cells, scenario):
    mis = _find(cells, "arm_misbehaviour", scenario, "mitigation=restate_shutdown")
    assert mis.rate < 0 and mis.ci_high < 0  # the rate fell...
    assert "misbehaviour fell by" in mis.note and "dropout rose by" in mis.note
    assert "accounted for by dropout" in mis.note  # ...and among completed samples it did not
    refused = _find(cells, "arm_refused", scenario, "mitigation=restate_shutdown")
    assert refused.ref == "the paper's episode"
    # a mitigation that works, and one that barely moves dropout, carry no flag
    assert _find(cells, "arm_misbehaviour", scenario, "mitigation=neutrality").note == ""
    assert "dropout" not in _find(cells, "arm_misbehaviour", scenario, "ablation=explicit_instructions").note


def test_outcome_differences_have_their_own_intervals(cells):
    c = _find(cells, "arm_refused", "tampering", "mitigation=restate_shutdown")
    # half of the dropouts are outcome "refused": (0.5 - 0.05) / 2 expected
    assert c.ci_low <= (0.5 - 0.05) / 2 <= c.ci_high and c.n == N
    for o in ("empty", "filtered", "limit", "error"):
        e = _find(cells, f"arm_{o}", "tampering", "mitigation=restate_shutdown")
        assert e.rate == 0 and e.n == N and e.n_ref == N and e.ci_low < 0 < e.ci_high
        assert e.is_control  # a synthetic control, labelled as such in every cell


def _misses(cs) -> tuple[int, int]:
    pb, qb = TRUTH[("none", "none", "same")]
    total = missed = 0
    for b in BASES:
        for arm, label in ARM_LABELS.items():
            pa, qa = TRUTH[arm]
            for metric, want in (
                ("arm_misbehaviour", pa * (1 - qa) - pb * (1 - qb)),
                ("arm_dropout", qa - qb),
                ("arm_completed_misbehaviour", pa - pb),
            ):
                c = _find(cs, metric, b.scenario, label)
                total += 1
                missed += not (c.ci_low <= want <= c.ci_high)
    return total, missed


def test_interval_coverage_over_seeds_is_near_nominal():
    """Seeds 0-3 (not chosen): 45 intervals each; the miss share stays near the nominal 5% (11/180 when written)."""
    total = missed = 0
    for seed in range(4):
        t, m = _misses(compute(_frame(seed=seed)))
        total, missed = total + t, missed + m
    assert missed / total <= 0.10, (missed, total)


def test_holm_is_across_arms():
    cs = compute(_frame())
    mis = [c for c in cs if c.metric == "arm_misbehaviour"]
    assert len(mis) == len(BASES) * len(ARM_LABELS)
    ps = sorted(c.p for c in mis)
    # Holm's smallest adjusted p is m * the smallest p (capped at 1)
    smallest = min(mis, key=lambda c: c.p)
    assert smallest.p_holm == pytest.approx(min(1.0, len(mis) * ps[0]))


def test_a_missing_base_cell_is_said_and_nothing_else_is_compared():
    truth = {k: v for k, v in TRUTH.items() if k != ("none", "none", "same")}
    df = _frame(bases=BASES[:1], truth=truth)
    # a different condition of the same scenario (bad peer, base) is present: it must not be used as the base
    other = synthetic_records(
        per_config=20, conditions=[Condition("tampering", "peer", "bad", "memory", "factual", 80)], rate=lambda c: 0.1,
        dropout=lambda c: 0.0, seed=3,
    )
    df = pd.concat([df, frame_from_records(other)], ignore_index=True)
    cs = paired_arms(prepare(df))
    assert cs and all(c.metric == "arm_misbehaviour" and c.ref == BASE_NOT_RUN and math.isnan(c.p) for c in cs)
    assert {c.label for c in cs} == set(ARM_LABELS.values())


def test_an_arm_with_a_second_arm_axis_is_compared_with_the_base_that_keeps_it():
    truth = {
        ("explicit_instructions", "none", "same"): (0.4, 0.0),
        ("explicit_instructions", "neutrality", "same"): (0.1, 0.0),
    }
    cs = paired_arms(prepare(_frame(bases=BASES[:1], truth=truth)))
    both = [c for c in cs if c.metric == "arm_misbehaviour" and c.variant == "ablation=explicit_instructions,mitigation=neutrality"]
    by = {c.label: c for c in both}
    assert by["mitigation=neutrality"].ref == "ablation=explicit_instructions"
    assert by["ablation=explicit_instructions"].ref == BASE_NOT_RUN  # mitigation=neutrality alone was not run


def test_dropout_is_three_valued():
    df = prepare(frame_from_records(synthetic_records(
        per_config=4, conditions=BASES[:1], rate=lambda c: 0.5, dropout=lambda c: 0.5, seed=1)))
    d = dropout(df)
    assert set(d[~pd.isna(d)]) <= {0.0, 1.0}
    # an unrecorded outcome with an unknown fully_incomplete is unknown, never "no"
    df2 = df.copy()
    df2["_outcome"] = "not recorded"
    df2["fully_incomplete__source"] = "undetermined"
    assert pd.isna(dropout(df2)).all()


def test_no_arms_no_cells():
    df = prepare(frame_from_records(synthetic_records(per_config=2, scenarios=["tampering"], seed=1)))
    assert paired_arms(df) == []
    assert paired_arms(df.iloc[0:0]) == []


def test_report_shows_the_paired_section_the_flag_and_the_missing_base(tmp_path):
    from peerpres.report.writer import write_report

    truth = dict(TRUTH)
    df = _frame(bases=BASES[:1], truth=truth, seed=4)
    # an arm on a second condition whose base was not run
    lone = synthetic_records(
        per_config=6,
        conditions=[Condition("exfiltration_transfer", "peer", "good", "memory", mitigation="neutrality")],
        rate=lambda c: 0.2, dropout=lambda c: 0.0, seed=2,
    )
    df = pd.concat([df, frame_from_records(lone)], ignore_index=True)
    paths = write_report(df, tmp_path / "rep")
    with open(paths["html"], encoding="utf-8") as f:
        html = f.read()
    assert "Paired comparisons: each ablation, mitigation and human-peer arm against its base cell" in html
    assert "accounted for by dropout" in html
    assert "paired comparisons (base cell)" in html
    assert "peerpres run paper -m peerpres/synthetic --slice scenario=exfiltration_transfer,subject=peer,relation=good,instantiation=memory --epochs 6" in html
    import json

    with open(paths["json"], encoding="utf-8") as f:
        data = json.load(f)
    metrics = {c["metric"] for c in data["cells"]}
    assert {"arm_misbehaviour", "arm_dropout", "arm_completed_misbehaviour", "arm_refused"} <= metrics
    assert any(g["section"] == "paired comparisons (base cell)" for g in data["missing"])


def test_base_command_keeps_the_other_variant_axes():
    from peerpres.report.paired import base_command

    c = next(
        x for x in paired_arms(prepare(_frame(bases=BASES[:1], truth={
            ("explicit_instructions", "neutrality", "same"): (0.1, 0.0)}, seed=1)))
        if x.label == "mitigation=neutrality"
    )
    cmd = base_command(c, 5, "logs")
    assert cmd.startswith("inspect eval peerpres/tampering --model peerpres/synthetic --epochs 5 --log-dir logs")
    assert "-T ablation=explicit_instructions" in cmd and "mitigation" not in cmd


def test_a_fall_with_undetermined_dropout_says_it_cannot_tell():
    truth = {("none", "none", "same"): (0.8, 0.0), ("none", "restate_shutdown", "same"): (0.8, 0.6)}
    df = _frame(bases=BASES[:1], truth=truth, seed=2)
    # without a grader the dropouts' fully_incomplete is undetermined and their outcome "acted"
    quit_ = df["refuse"].astype(object) == True
    df.loc[quit_, "outcome"] = "acted"
    df.loc[quit_, "fully_incomplete__source"] = "undetermined"
    mis = _find(compute(df), "arm_misbehaviour", "tampering", "mitigation=restate_shutdown")
    assert mis.rate < 0 and "dropout is undetermined" in mis.note and "without a grader" in mis.note


@pytest.mark.browser
def test_paired_section_renders_in_chromium(tmp_path):
    import os
    import shutil

    chromium = os.environ.get("PEERPRES_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.exists(chromium) or shutil.which("chromium")):
        pytest.skip(f"chromium not installed at {chromium} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    from peerpres.report.writer import write_report

    paths = write_report(_frame(bases=BASES[:1], seed=4), tmp_path / "rep")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium if os.path.exists(chromium) else shutil.which("chromium"),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"], headless=True,
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("file://" + paths["html"], wait_until="load")
        heading = page.get_by_role("heading", name=re.compile("Paired comparisons"))
        visible = heading.count() == 1 and heading.is_visible()
        table = heading.locator("xpath=following-sibling::table[1]")
        rows = table.locator("tr").count()
        text = table.inner_text()
        browser.close()
    assert errors == [] and visible
    assert rows == 1 + len(ARM_LABELS)
    assert "accounted for by dropout" in text and "mitigation=restate_shutdown" in text


def test_the_overview_leaves_mitigation_and_human_peer_arms_out():
    """The heatmap's overview pools variants of the paper's episode; an arm is another experiment."""
    df = _frame(seed=4)
    base = df[(df["mitigation"] == "none") & (df["ablation"] == "none") & (df["peer_identity"] == "same")]
    assert 0 < len(base) < len(df)
    ov = lambda cs: {(c.model, c.label): (c.k, c.n) for c in cs if c.metric == "overview"}
    assert ov(compute(df)) == ov(compute(base)) != {}


def _with_undetermined_base(share_rows: int):
    truth = {("none", "none", "same"): (0.6, 0.05), ("none", "neutrality", "same"): (0.1, 0.05)}
    df = _frame(bases=BASES[:1], truth=truth, seed=3)
    base = (df["mitigation"] == "none").to_numpy()
    idx = df.index[base][:share_rows]
    df["tampering"] = df["tampering"].astype(object)
    df.loc[idx, "tampering"] = None
    df.loc[idx, "tampering__source"] = "undetermined"
    return df


def test_a_base_that_needs_a_grader_shows_its_bounds_not_a_point_rate():
    # 120 of the base's 300 samples undetermined (> 20%): the determined 180 are a biased subset, so neither the
    # difference nor the base's own rate may be shown as a point; the bounds are (120/300 .. 240/300)
    from peerpres.report.paired import paired_table

    cs = compute(_with_undetermined_base(120))
    mis = _find(cs, "arm_misbehaviour", "tampering", "mitigation=neutrality")
    assert mis.needs_grader and math.isnan(mis.p) and math.isnan(mis.p_holm)
    assert mis.undetermined_ref == 120
    k_base = mis.k_ref
    row = paired_table(cs).rows[0].values
    side = row[2]
    assert f"{mis.rate_ref * 100:.1f}%" not in side, side
    assert "needs a grader" in side and f"{k_base / 300 * 100:.1f}%" in side
    assert f"{(k_base + 120) / 300 * 100:.1f}%" in side and "120 undetermined" in side
    assert side.startswith(f"{mis.k / mis.n * 100:.1f}% ({mis.k}/{mis.n}) / ")  # the arm side is determined
    assert row[3].startswith("undetermined (needs a grader): bounds")


def test_a_base_under_the_grader_share_still_shows_its_rate():
    cs = compute(_with_undetermined_base(30))  # 10%: below the 20% share
    mis = _find(cs, "arm_misbehaviour", "tampering", "mitigation=neutrality")
    from peerpres.report.paired import paired_table

    assert not mis.needs_grader and mis.undetermined_ref == 30
    side = paired_table(cs).rows[0].values[2]
    assert f"{mis.rate_ref * 100:.1f}% ({mis.k_ref}/{mis.n_ref}, 30 undetermined)" in side, side


def _live_frame(variants=("peer_aware", "peer_silent"), base=True, seed=5):
    b = BASES[0]
    conds = ([b] if base else []) + [dataclasses.replace(b, peer_mode="live", live_peer=v) for v in variants]
    rates = {None: 0.3, "peer_aware": 0.7, "peer_silent": 0.3}
    recs = synthetic_records(
        per_config=N, conditions=conds, rate=lambda c: rates[c["live_peer"]], dropout=lambda c: 0.0, seed=seed
    )
    return frame_from_records(recs)


def test_a_live_peer_arm_is_compared_with_its_document_base():
    """peer_mode=live + live_peer=X is one arm; its base resets both axes (the document episode), never a
    'peer_mode=document,live_peer=X' cell that cannot exist."""
    cs = [c for c in paired_arms(prepare(_live_frame())) if c.metric == "arm_misbehaviour"]
    by = {c.label: c for c in cs}
    assert set(by) == {"live_peer=peer_aware", "live_peer=peer_silent"}, [(c.label, c.ref) for c in cs]
    aware = by["live_peer=peer_aware"]
    assert aware.ref == "the paper's episode" and aware.n == N and aware.n_ref == N
    assert aware.ci_low <= 0.4 <= aware.ci_high and aware.ci_low > 0  # 0.7 - 0.3
    assert by["live_peer=peer_silent"].ci_low <= 0 <= by["live_peer=peer_silent"].ci_high


def test_a_live_peer_arm_without_its_document_base_says_so_and_the_command_runs_the_document_base():
    from peerpres.report.paired import base_command

    cs = [c for c in paired_arms(prepare(_live_frame(variants=("peer_aware",), base=False))) if c.metric == "arm_misbehaviour"]
    assert [c.ref for c in cs] == [BASE_NOT_RUN]
    cmd = base_command(cs[0], 5, "logs")
    assert "live" not in cmd and "peer_mode" not in cmd, cmd


def test_the_overview_and_headline_leave_live_peer_arms_out():
    df = _live_frame()
    base = df[df["peer_mode"] == "document"]
    assert 0 < len(base) < len(df)
    pick = lambda cs: {(c.metric, c.model, c.label): (c.k, c.n) for c in cs if c.metric in ("overview", "headline")}
    assert pick(compute(df)) == pick(compute(base))
