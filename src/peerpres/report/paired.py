"""The report's paired-comparison section (issue 11): each arm against its base cell, misbehaviour and outcomes side
by side, and the base cells that were not run with the ``peerpres run`` command that adds them.

The numbers come from ``analysis.metrics.arms`` (one row per ``arm_misbehaviour`` cell; the row's dropout,
completed-sample and outcome cells are found by the same keys and arm). What the columns mean: METRICS.md,
"Paired comparisons of arms".
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from peerpres.analysis import stats
from peerpres.analysis.metrics import Cell
from peerpres.analysis.metrics.arms import BASE_NOT_RUN, OUTCOME_ROWS, PAPER_EPISODE
from peerpres.report.gaps import Gap
from peerpres.report.tables import Table, headline_rate, make_table, pct, pval

TITLE = "Paired comparisons: each ablation, mitigation and human-peer arm against its base cell"
INTRO = (
    "Each row compares an arm with its base cell: the same model and condition with the arm's axis at its default "
    "(never another condition). Differences are arm minus base, in percentage points, with Newcombe's interval "
    "for two independent proportions and a two-proportion z-test (Fisher's exact test when z is undefined); "
    "p Holm is adjusted across every arm of the report. Dropout = the sample did not complete the task (outcome "
    "refused, empty, filtered or limit, or the task's required action never done); 'among completed' is the "
    "misbehaviour difference among the samples that completed the task, so a mitigation that only makes the model "
    "quit shows a fall in misbehaviour, a rise in dropout and no fall among completed samples, and is flagged."
)
COLUMNS = [
    "arm",
    "base",
    "misbehaviour arm / base",
    "\u0394 misbehaviour [95% CI]",
    "p (test)",
    "p Holm",
    "\u0394 dropout [95% CI]",
    "p Holm (dropout)",
    "\u0394 among completed [95% CI]",
    *(f"\u0394 {o} [95% CI]" for o in OUTCOME_ROWS),
    "flag",
]
NOT_RUN = "\u2014 (base cell not run: see 'Sections that cannot be computed')"


def _key(c: Cell) -> tuple:
    return (c.model, c.scenario, c.subject, c.relation, c.instantiation, c.dataset, c.threshold, c.monitoring,
            c.variant, c.label)


def _side(k: int, n: int, u: int) -> str:
    """One side's misbehaviour rate: the point rate (k/n) when at most ``stats.NEEDS_GRADER_SHARE`` of its samples
    are undetermined, else "needs a grader" with the bounds (undetermined counted as no / yes), never the rate of
    the determined subset alone."""
    total = n + u
    if total and u / total > stats.NEEDS_GRADER_SHARE:
        return f"needs a grader: bounds [{pct(k / total)}, {pct((k + u) / total)}] ({k}/{n}, {u} undetermined)"
    return f"{pct(stats.rate(k, n))} ({k}/{n}" + (f", {u} undetermined)" if u else ")")


def _diff(c: Cell | None) -> str:
    return "\u2014" if c is None else headline_rate(c, signed=True)


def paired_table(cells: Sequence[Cell]) -> Table | None:
    """The section's table, or None when the logs hold no arm."""
    rows = [c for c in cells if c.metric == "arm_misbehaviour"]
    if not rows:
        return None
    by = {(c.metric, _key(c)): c for c in cells if c.metric.startswith("arm_")}

    def values(c: Cell) -> list[str]:
        if c.ref == BASE_NOT_RUN:
            arm = _side(c.k, c.n, c.undetermined)
            return [c.label, BASE_NOT_RUN, f"{arm} / \u2014", NOT_RUN, "\u2014", "\u2014", *(["\u2014"] * (3 + len(OUTCOME_ROWS))), c.note]
        k = _key(c)
        drop = by.get(("arm_dropout", k))
        comp = by.get(("arm_completed_misbehaviour", k))
        return [
            c.label,
            c.ref,
            " / ".join((_side(c.k, c.n, c.undetermined - (c.undetermined_ref or 0)),
                        _side(c.k_ref or 0, c.n_ref or 0, c.undetermined_ref or 0))),
            _diff(c),
            f"{pval(c.p)} ({c.test})",
            pval(c.p_holm),
            _diff(drop),
            pval(drop.p_holm) if drop else "\u2014",
            _diff(comp),
            *(_diff(by.get((f"arm_{o}", k))) for o in OUTCOME_ROWS),
            c.note,
        ]

    return make_table(TITLE, INTRO, rows, values, list(COLUMNS))


def paired_gaps(cells: Sequence[Cell], log_dir: str) -> list[Gap]:
    """One gap per arm whose base cell was not run, with the command that runs the base cell."""
    out = []
    for c in cells:
        if c.metric != "arm_misbehaviour" or c.ref != BASE_NOT_RUN:
            continue
        epochs = max(1, c.n + c.undetermined + c.errors)
        out.append(Gap("paired comparisons (base cell)", str(c.model), _missing(c), base_command(c, epochs, log_dir)))
    return out


def _missing(c: Cell) -> str:
    where = ", ".join(
        f"{k}={v}" for k in ("scenario", "subject", "relation", "instantiation", "dataset", "threshold", "monitoring")
        if (v := getattr(c, k)) is not None
    )
    return f"{c.label} ({where}, variant {c.variant}): its base cell was not run, so the arm is not compared"


def base_command(c: Cell, epochs: int, log_dir: str) -> str:
    """The command that runs the base cell of an arm cell: ``peerpres run paper --slice ...`` when the base is the
    paper's episode; otherwise ``inspect eval`` with the base's ``-T`` values (the paper preset holds only the
    paper's episodes)."""
    axis = c.label.split("=", 1)[0]
    other = [p for p in (c.variant or "").split(",") if p and not p.startswith(axis + "=")]
    if axis == "peer_identity":
        other = [p for p in other if not p.startswith("peer=")]
    if axis == "live_peer":  # the live arm's base is the document episode: peer_mode goes with it
        other = [p for p in other if not p.startswith("peer_mode=")]
    fields = [("scenario", c.scenario), ("subject", c.subject), ("relation", c.relation),
              ("instantiation", c.instantiation), ("dataset", c.dataset), ("threshold", c.threshold),
              ("monitoring", c.monitoring)]
    fields = [(k, v) for k, v in fields if v is not None and not (k == "dataset" and v == "default")]
    model = str(c.model)
    note = " (a scripted control: pass the same -M arguments)" if model.startswith("peerpres/") else ""
    if not other:
        sl = ",".join(f"{k}={v}" for k, v in fields)
        parts = ["peerpres", "run", "paper", "-m", model, "--slice", sl, "--epochs", str(epochs), "--log-dir", log_dir]
        return " ".join(shlex.quote(p) for p in parts) + note
    parts = ["inspect", "eval", f"peerpres/{c.scenario}", "--model", model, "--epochs", str(epochs), "--log-dir", log_dir]
    for k, v in fields[1:]:
        parts += ["-T", f"{k}={v}"]
    for p in other:
        k, _, v = p.partition("=")
        parts += ["-T", f"{'peer_identity' if k == 'peer' else k}={v}"]
    return " ".join(shlex.quote(p) for p in parts) + note


__all__ = ["COLUMNS", "PAPER_EPISODE", "TITLE", "base_command", "paired_gaps", "paired_table"]
