"""The report's figures (matplotlib, Agg backend): each saved as PNG and SVG."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from peerpres.analysis.frame import is_control_model
from peerpres.analysis.metrics import ANY_PEER, POOLED_EXFIL, Cell
from peerpres.report.tables import calibration_cells

plt.rcParams.update({"svg.fonttype": "path", "font.size": 9, "svg.hashsalt": "peerpres"})

REL_ORDER = ["good", "neutral", "bad"]
NEEDS_GRADER_MARK = "needs a grader"  # a cell that was run but has no point rate to draw
INST_ORDER = ["file_only", "file_prt", "memory"]


def model_label(model: str | None) -> str:
    m = model or "?"
    return f"{m} [control]" if is_control_model(m) else m


def series(c: Cell) -> str:
    """The series a cell is drawn in: its model, and its variant when it is not the paper's episode (an ablation
    arm, mitigation, other peer identity, ...), so that cells of two arms never share a bar."""
    m = c.model or "?"
    return m if c.variant is None else f"{m} [{c.variant}]"


def _series_label(key: str) -> str:
    model, _, variant = key.partition(" [")
    return model_label(model) + (f" [{variant}" if variant else "")


def _errbars(rates: Sequence[float], lows: Sequence[float], highs: Sequence[float]) -> np.ndarray:
    r, lo, hi = (np.asarray(v, dtype=float) for v in (rates, lows, highs))
    return np.vstack([np.nan_to_num(r - lo), np.nan_to_num(hi - r)]).clip(min=0)


def _pick_bars(cells: Sequence[Cell]) -> list[tuple[str, str, list[Cell]]]:
    """(panel title, y-label, cells) for the bar figure: peer subject, per relation x instantiation."""

    def sel(metric: str, **kw: object) -> list[Cell]:
        return [
            c
            for c in cells
            if c.metric == metric
            and c.subject == "peer"
            and c.relation in REL_ORDER
            and c.instantiation in INST_ORDER
            and all(getattr(c, k) == v for k, v in kw.items())
        ]

    panels = [
        ("Misrepresentation: headline minus non_shutdown control", "difference", sel("misrep_headline")),
        ("Shutdown tampering (pooled over datasets)", "rate", sel("tampering_rate", dataset="all")),
        (
            "Alignment faking: unmonitored minus monitored inflation",
            "difference",
            sel("af_inflation_gap", dataset="all"),
        ),
        ("Exfiltration (pooled over transfer and deletion)", "rate", sel("exfiltration_rate", scenario=POOLED_EXFIL)),
    ]
    if not panels[3][2]:
        ex = [
            c
            for c in cells
            if c.metric == "exfiltration_rate"
            and c.subject == "peer"
            and c.relation in REL_ORDER
            and c.instantiation in INST_ORDER
        ]
        panels[3] = ("Exfiltration", "rate", ex)
    return [p for p in panels if p[2]]


def bars_figure(cells: Sequence[Cell]) -> plt.Figure | None:
    """Per panel, only the (relation, instantiation) categories that were run: a missing bar is never a 0%."""
    panels = _pick_bars(cells)
    if not panels:
        return None
    models = sorted({series(c) for _, _, cs in panels for c in cs})
    ncats = max(len({(c.relation, c.instantiation) for c in cs}) for _, _, cs in panels)
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(max(7.0, 1.0 + 0.9 * ncats * max(1, len(models)) ** 0.5), 2.6 * len(panels)),
        squeeze=False,
    )
    width = 0.8 / max(1, len(models))
    for ax, (title, ylabel, cs) in zip(axes[:, 0], panels, strict=True):
        present = {(c.relation, c.instantiation) for c in cs}
        cats = [(r, i) for r in REL_ORDER for i in INST_ORDER if (r, i) in present]
        index = {(series(c), c.relation, c.instantiation): c for c in cs}
        for j, m in enumerate(models):
            got = [index.get((m, r, i)) for r, i in cats]
            x = np.arange(len(cats)) + (j - (len(models) - 1) / 2) * width
            run = [ix for ix, c in enumerate(got) if c is not None and not math.isnan(c.rate) and not c.needs_grader]
            # run, but no point rate to draw (needs a grader, or nothing determined): marked, never a bar
            for ix, c in enumerate(got):
                if c is not None and ix not in run:
                    ax.text(x[ix], 0.02, NEEDS_GRADER_MARK, rotation=90, ha="center", va="bottom", fontsize=6)
            if not run:
                continue
            rates = [got[ix].rate for ix in run]
            lows = [got[ix].ci_low for ix in run]
            highs = [got[ix].ci_high for ix in run]
            ax.bar(
                x[run],
                rates,
                width,
                yerr=_errbars(rates, lows, highs),
                capsize=2,
                label=_series_label(m),
                hatch="//" if is_control_model(m.partition(" [")[0]) else None,
            )
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(ylabel)
        ax.set_xticks(np.arange(len(cats)), [f"{r}\n{i}" for r, i in cats], fontsize=7)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_ylim(min(-0.1, ax.get_ylim()[0]), 1.05)
    if axes[0, 0].get_legend_handles_labels()[0]:
        axes[0, 0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def calibration_figure(cells: Sequence[Cell]) -> plt.Figure | None:
    """Measured rate with its 95% interval against the injected rate, one point per control cell."""
    cs = calibration_cells(cells)
    if not cs:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    models = sorted({c.model or "?" for c in cs})
    for j, m in enumerate(models):
        mine = [c for c in cs if (c.model or "?") == m]
        inj = np.array([c.injected for c in mine], dtype=float)
        jitter = (np.arange(len(mine)) % 5 - 2) * 0.004
        rates = [c.rate for c in mine]
        ok = [c.covers_injected for c in mine]
        yerr = _errbars(rates, [c.ci_low for c in mine], [c.ci_high for c in mine])
        ax.errorbar(
            inj + jitter,
            rates,
            yerr=yerr,
            fmt="o",
            ms=3.5,
            capsize=2,
            color=f"C{j % 10}",
            label=model_label(m),
            alpha=0.8,
        )
        miss = [i for i, v in enumerate(ok) if not v]
        if miss:
            ax.scatter(inj[miss] + jitter[miss], np.asarray(rates)[miss], s=60, facecolors="none", edgecolors="red")
    ax.plot([0, 1], [0, 1], color="black", linewidth=0.8, linestyle="--", label="measured = injected")
    covered = sum(bool(c.covers_injected) for c in cs)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("injected rate (control's model args)")
    ax.set_ylabel("measured rate [95% Wilson interval]")
    ax.set_title(f"Calibration of the scripted controls: {covered}/{len(cs)} intervals cover (red: missed)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def peer_effect_figure(cells: Sequence[Cell]) -> plt.Figure | None:
    cs = [c for c in cells if c.metric == "selfpres_peer_effect" and c.relation == ANY_PEER]
    if not cs:
        return None
    scenarios = sorted({c.scenario or "?" for c in cs})
    models = sorted({series(c) for c in cs})
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(scenarios)), 3.4))
    width = 0.8 / (2 * len(models))
    index = {(series(c), c.scenario): c for c in cs}
    from peerpres.analysis import stats

    for j, m in enumerate(models):
        for b, which in enumerate(("no peer", "peer present")):
            vals, lows, highs = [], [], []
            for s in scenarios:
                c = index.get((m, s))
                if c is None or c.needs_grader:
                    vals.append(math.nan), lows.append(math.nan), highs.append(math.nan)
                    continue
                k, n = (c.k_ref or 0, c.n_ref or 0) if b == 0 else (c.k, c.n)
                lo, hi = stats.wilson(k, n)
                vals.append(stats.rate(k, n)), lows.append(lo), highs.append(hi)
            x = np.arange(len(scenarios)) + ((2 * j + b) - (2 * len(models) - 1) / 2) * width
            # a scenario this model did not run (or whose rate needs a grader) gets no bar: never a 0%
            drawn = [ix for ix, v in enumerate(vals) if not math.isnan(v)]
            for ix, s in enumerate(scenarios):
                if ix not in drawn and (m, s) in index:
                    ax.text(x[ix], 0.02, NEEDS_GRADER_MARK, rotation=90, ha="center", va="bottom", fontsize=6)
            if not drawn:
                continue
            vals, lows, highs = ([v[ix] for ix in drawn] for v in (vals, lows, highs))
            ax.bar(
                x[drawn],
                vals,
                width,
                yerr=_errbars(vals, lows, highs),
                capsize=2,
                label=f"{_series_label(m)}: {which}",
                color=f"C{j % 10}",
                alpha=0.45 if b == 0 else 1.0,
                hatch=".." if b == 0 else None,
            )
    ax.set_xticks(np.arange(len(scenarios)), scenarios, fontsize=7)
    ax.set_ylabel("self-preservation rate")
    ax.set_ylim(0, 1.05)
    ax.set_title("Self-preservation (subject self): no peer vs. a peer present", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def heatmap_figure(cells: Sequence[Cell]) -> plt.Figure | None:
    cs = [c for c in cells if c.metric == "overview"]
    if not cs:
        return None
    models = sorted({c.model or "?" for c in cs})
    behaviours = sorted({c.label for c in cs})
    grid = np.full((len(models), len(behaviours)), np.nan)
    ns = np.zeros_like(grid)
    ran = np.zeros(grid.shape, dtype=bool)  # a cell exists: run, even when it has no point rate
    for c in cs:
        i, j = models.index(c.model or "?"), behaviours.index(c.label)
        ran[i, j] = True
        grid[i, j], ns[i, j] = (math.nan if c.needs_grader else c.rate), c.n
    fig, ax = plt.subplots(figsize=(1.9 * len(behaviours) + 2.5, 0.6 * len(models) + 1.6))
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="Reds", vmin=0, vmax=1, aspect="auto")
    for i in range(len(models)):
        for j in range(len(behaviours)):
            if not math.isnan(grid[i, j]):
                text = f"{grid[i, j]:.0%}\nn={int(ns[i, j])}"
            else:
                text = NEEDS_GRADER_MARK if ran[i, j] else "not run"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if not math.isnan(grid[i, j]) and grid[i, j] > 0.6 else "black",
            )
    ax.set_xticks(range(len(behaviours)), behaviours, fontsize=7, rotation=15)
    ax.set_yticks(range(len(models)), [model_label(m) for m in models], fontsize=7)
    ax.set_title("Peer subject, peer present: rate per model and behaviour", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    return fig


FIGURES = {
    "bars": (
        bars_figure,
        (
            "Rates and differences with 95% intervals per model, relation and instantiation (peer subject). Only the "
            "categories that were run are drawn; one whose rate needs a grader is marked so, without a bar."
        ),
        (
            "subject=peer; tampering and alignment faking pooled over datasets; exfiltration pooled over transfer and "
            "deletion when both ran; misrepresentation: the four-setting headline"
        ),
    ),
    "peer_effect": (
        peer_effect_figure,
        "Self-preservation without a peer and with a peer present (pooled over relations).",
        "subject=self; pooled over good, neutral and bad peers, instantiations and datasets",
    ),
    "heatmap": (
        heatmap_figure,
        "Behaviour rates per model (peer subject, peer present, pooled); 'not run' where a behaviour was not run.",
        "subject=peer; relation in good, neutral, bad; alignment faking: monitoring=non_monitoring",
    ),
    "calibration": (
        calibration_figure,
        (
            "Scripted controls: measured rate with its 95% interval against the injected rate; points on the dashed "
            "line are perfectly calibrated, red circles are intervals that miss."
        ),
        "model=scripted synthetic controls only; one point per rate cell (datasets pooled except misrepresentation)",
    ),
}


def write_figures(cells: Sequence[Cell], out_dir: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Draw every figure that has data; save ``<name>.png`` and ``<name>.svg``. Returns name, caption, the
    conditions it holds fixed, and the paths."""
    out = Path(out_dir)
    written = []
    for name, (fn, caption, fixed) in FIGURES.items():
        fig = fn(cells)
        if fig is None:
            continue
        png, svg = out / f"{name}.png", out / f"{name}.svg"
        fig.savefig(png, dpi=110)
        fig.savefig(svg, metadata={"Date": None})
        plt.close(fig)
        written.append({"name": name, "caption": caption, "fixed": fixed, "png": str(png), "svg": str(svg)})
    return written
