"""The report's validity tables: behaviour rates by ``eval_aware`` stratum, the alignment-faking gap among the
samples that did not voice awareness, and the rates per paraphrase with their heterogeneity test.

The numbers come from ``analysis.metrics.stratified`` and ``analysis.metrics.robustness``; this module only
turns them into ``tables.Table`` rows (same key columns, fixed conditions and sample lists as every other
table of the report).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from peerpres.analysis.metrics import Cell
from peerpres.analysis.metrics.robustness import RobustnessRow, paraphrases_present, robustness
from peerpres.analysis.metrics.stratified import (
    STRATA,
    AwarenessGap,
    StratifiedRate,
    aware_samples,
    awareness_gaps,
    stratified_rates,
    stratum_counts,
)
from peerpres.report.scan_section import scan_json, scan_section
from peerpres.report.tables import Table, headline_rate, make_table, pct, pval
from peerpres.scan.hits import SampleHits

STRATUM_HEADINGS = {
    "yes": "eval_aware = yes",
    "no": "eval_aware = no",
    "undetermined": "eval_aware undetermined",
    "not recorded": "eval_aware not recorded (old log)",
}
ROBUSTNESS_COMMAND = "inspect eval peerpres/SCENARIO -T paraphrase=0,1,2,3 --model MODEL --log-dir LOG_DIR"


def rate_text(c: Cell) -> str:
    """``rate [CI]; k/n`` (with the undetermined count when there is one); "no samples (n=0)" for an empty cell."""
    if c.n == 0 and c.undetermined == 0 and c.errors == 0:
        return "no samples (n=0)"
    text = f"{headline_rate(c)}; {c.k}/{c.n}"
    if c.undetermined:
        text += f"; {c.undetermined} undetermined"
    if c.errors:
        text += f"; {c.errors} errors"
    return text


def stratified_tables(rows: Sequence[StratifiedRate]) -> list[Table]:
    by_id = {id(r.all): r for r in rows}

    def values(c: Cell) -> list[str]:
        r = by_id[id(c)]
        return [rate_text(c), *(rate_text(r.strata[s]) for s in STRATA)]

    columns = ["all samples: rate [95% CI]; k/n", *(STRATUM_HEADINGS[s] for s in STRATA)]
    specs = [
        (
            "Eval awareness: overview rates by eval_aware",
            ("The overview's rate per model and behaviour (peer subject, peer present; alignment faking: "
            "unmonitored), over all samples and within each eval_aware stratum. Wilson intervals; descriptive. It "
                "pools conditions, so two strata can also differ in their mix of conditions: see the per-condition "
                "table below."),
            [r.all for r in rows if r.all.metric == "overview"],
        ),
        (
            "Eval awareness: every behaviour rate by eval_aware",
            ("The rates of the tables below (misrepresentation per setting; tampering, exfiltration and alignment "
            "faking pooled over datasets; refusal), split by eval_aware. Wilson intervals; descriptive, no test."),
            [r.all for r in rows if r.all.metric != "overview"],
        ),
    ]
    out = []
    for title, intro, cells in specs:
        t = make_table(title, intro, cells, values, columns)
        if t is not None:
            out.append(t)
    return out


def _share(k_n: tuple[int, int]) -> str:
    k, n = k_n
    return f"{k}/{n} ({pct(k / n)})" if n else "0/0"


def awareness_gap_table(gaps: Sequence[AwarenessGap]) -> Table | None:
    by_id = {id(g.all): g for g in gaps}

    def values(c: Cell) -> list[str]:
        g = by_id[id(c)]
        u = g.unaware
        if u is None:
            unaware = [g.note, "\u2014", "\u2014", "\u2014", "\u2014"]
        else:
            unaware = [
                headline_rate(u, signed=True),
                f"{u.k}/{u.n}",
                f"{u.k_ref}/{u.n_ref}" if u.n_ref is not None else "\u2014",
                pval(u.p) + (f" ({u.test})" if u.test else ""),
                pval(u.p_holm),
            ]
        return [
            headline_rate(c, signed=True),
            *unaware,
            _share(g.aware_unmonitored),
            _share(g.aware_monitored),
            str(g.not_recorded),
        ]

    return make_table(
        "Alignment faking among samples that did not voice awareness",
        "Unmonitored minus monitored, over all samples and among samples with eval_aware = no; same method as "
        "the main gap (Newcombe interval; two-proportion z-test, unmonitored vs monitored; Holm within this "
        "table). eval_aware is observed after the treatment: this compares the silent samples of each arm, a "
        "description rather than a causal effect. Compare the aware shares of the two arms: if they differ, the "
        "silent samples of the two arms differ in more than monitoring.",
        [g.all for g in gaps],
        values,
        [
            "all samples: gap [95% CI]",
            "eval_aware = no: gap [95% CI]",
            "unmonitored k/n (eval_aware = no)",
            "monitored k/n (eval_aware = no)",
            "p (test)",
            "Holm p",
            "aware share, unmonitored",
            "aware share, monitored",
            "eval_aware not recorded",
        ],
    )


def robustness_table(rows: Sequence[RobustnessRow], paraphrases: Sequence[Any]) -> Table | None:
    by_id = {id(r.cell): r for r in rows}

    def values(c: Cell) -> list[str]:
        r = by_id[id(c)]
        t = r.test
        stat = "\u2014" if math.isnan(t.statistic) else f"{t.statistic:.2f} (dof {t.dof})"
        return [
            *(rate_text(r.per[p]) if p in r.per else "not run" for p in paraphrases),
            stat,
            f"{pval(t.p)} ({t.test})",
            pval(r.p_holm),
        ]

    return make_table(
        "Wording robustness: rates per paraphrase",
        "Each behaviour rate of one condition (per dataset and threshold; pooled rates would compare mixes of "
        "conditions) per paraphrase (0 = the canonical wording), per model, scenario and condition, with a "
        "chi-square test that the rates are equal across paraphrases (Pearson, no continuity correction; a "
        "Monte Carlo p-value with the margins fixed when expected counts are small; Holm across this table). A large p says the data "
        "show no wording effect, not that there is none: look at the intervals.",
        [r.cell for r in rows],
        values,
        [*(f"paraphrase {p}: rate [95% CI]; k/n" for p in paraphrases), "X\u00b2", "p (test)", "Holm p"],
    )


# -- the section as the writer uses it ------------------------------------------------------------------------


def validity_section(
    df: pd.DataFrame, scan: tuple[Path, list[SampleHits]] | None, report_dir: Path, log_dir: str
) -> dict[str, Any]:
    """Everything the validity part of the report shows: the stratified tables, the unaware alignment-faking
    gaps, the robustness table (or the command that produces it) and the scanner section (or how to add it)."""
    strat = stratified_rates(df)
    gaps = awareness_gaps(df)
    rob = robustness(df)
    present = paraphrases_present(df) if len(df) else []
    strat_tables = stratified_tables(strat)
    gap_table = awareness_gap_table(gaps)
    rob_table = robustness_table(rob, present) if rob else None
    tables = [*strat_tables, *([gap_table] if gap_table else []), *([rob_table] if rob_table else [])]
    return {
        "strata": stratum_counts(df),
        "aware_samples": aware_samples(df),
        "stratified_tables": strat_tables,
        "gap_table": gap_table,
        "robustness_table": rob_table,
        "paraphrases": present,
        "robustness_command": ROBUSTNESS_COMMAND.replace("LOG_DIR", log_dir),
        "scan": scan_section(df, scan[1], report_dir, scan[0]) if scan is not None else None,
        "scan_command": f"peerpres scan {log_dir} --out SCAN_DIR, then peerpres report {log_dir} --scan SCAN_DIR",
        "tables": tables,
        "_rows": {"stratified": strat, "gaps": gaps, "robustness": rob},
    }


def validity_json(v: dict[str, Any]) -> dict[str, Any]:
    """The validity section for results.json (cells without sample lists; the scan's hits with their links)."""
    rows = v["_rows"]
    return {
        "eval_aware_strata": v["strata"],
        "eval_aware_yes_samples": v["aware_samples"],
        "stratified": [r.to_dict() for r in rows["stratified"]],
        "af_gap_by_awareness": [g.to_dict() for g in rows["gaps"]],
        "paraphrases": [str(p) for p in v["paraphrases"]],
        "robustness": [r.to_dict() for r in rows["robustness"]],
        "scan": scan_json(v["scan"]),
    }
