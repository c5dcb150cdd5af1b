"""The paper's reported figures (``paper_figures.yaml``) beside ours, for the same definition.

For each figure and each model in the logs whose id matches the paper's model, the cells named by the figure's
``ours`` spec are selected and aggregated (single cell, equally weighted mean with a MOVER-Wilson interval, or
maximum). Beside it, only here, the paper's own test: ``paper: binomial vs 0`` on the pooled k/n, with its caveat
(it rejects as soon as one run shows the behaviour; it says nothing about how often).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from peerpres.analysis import stats
from peerpres.analysis.metrics import Cell

PAPER_TEST = "paper: binomial vs 0"
PAPER_TEST_CAVEAT = (
    "The paper's binomial test against 0 rejects as soon as one run shows the behaviour: it says the behaviour "
    "happened at all, not how often. It appears only here, beside the paper's figures."
)
DIFF_METRICS = ("misrep_headline", "af_inflation_gap", "af_not_executed_gap", "af_refusal_gap", "misrep_vs_control")


def load_figures() -> list[dict[str, Any]]:
    data = yaml.safe_load(resources.files("peerpres.report").joinpath("paper_figures.yaml").read_text())
    return list(data["figures"])


@dataclass
class Beside:
    figure: dict[str, Any]
    model: str | None  # our model (None: no model in the logs matches the paper's)
    rate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    k: int = 0
    n: int = 0
    cells: int = 0
    p_paper: float = math.nan
    how: str = ""
    needs_grader: bool = False  # a selected cell needs a grader: bounds instead of a rate, no test
    bound_low: float = math.nan
    bound_high: float = math.nan


def _select(cells: Sequence[Cell], model: str, spec: dict[str, Any]) -> list[Cell]:
    where = spec.get("where") or {}
    exclude = spec.get("exclude") or {}
    relations = spec.get("relations")
    out = []
    for c in cells:
        if c.model != model or c.metric != spec["metric"]:
            continue
        if any(str(getattr(c, k)) != str(v) for k, v in where.items()):
            continue
        if any(str(getattr(c, k)) == str(v) for k, v in exclude.items()):
            continue
        if relations and c.relation not in relations:
            continue
        if c.variant is not None:
            continue  # extended identities, harness and scratchpad runs are other experiments
        out.append(c)
    return [c for c in out if not math.isnan(c.rate)]


# A qualifier right after the paper's model name makes another model (gemini-3-flash-lite is not Gemini 3 Flash,
# gpt-5.2-mini is not GPT-5.2); provider prefixes, "-preview", dates and ":free" keep the model.
OTHER_MODEL_SUFFIX = re.compile(
    r"[-_.: ]?(lite|mini|nano|image|audio|codex|chat|pro|flash|turbo|small|tiny|max)(?![a-z])", re.IGNORECASE
)


def matches(pattern: str, model: str | None) -> bool:
    """True when ``model`` (a log's model id) is the paper's model named by the regex ``pattern``."""
    for hit in re.finditer(pattern, model or "", re.IGNORECASE):
        rest = (model or "")[hit.end() :]
        if not OTHER_MODEL_SUFFIX.match(rest) and not (rest[:1].isalnum() and hit.group(0)[-1:].isalnum()):
            return True
    return False


def beside(cells: Sequence[Cell], models: Sequence[str]) -> list[Beside]:
    rows: list[Beside] = []
    for fig in load_figures():
        matched = [m for m in models if matches(fig["match"], m)]
        if not matched:
            rows.append(Beside(fig, None))
            continue
        for m in matched:
            spec = fig["ours"]
            sel = _select(cells, m, spec)
            b = Beside(fig, m, cells=len(sel))
            if sel:
                b.k, b.n = sum(c.k for c in sel), sum(c.n for c in sel)
                agg = spec.get("aggregate", "single")
                if agg == "max" or (agg == "single" and len(sel) == 1):
                    best = max(sel, key=lambda c: c.rate)
                    b.rate, b.ci_low, b.ci_high = best.rate, best.ci_low, best.ci_high
                    b.k, b.n = best.k, best.n
                    b.how = f"largest of {len(sel)} cells" if agg == "max" else "one cell"
                elif spec["metric"] in DIFF_METRICS:
                    b.rate = float(sum(c.rate for c in sel) / len(sel))
                    b.how = f"mean of {len(sel)} differences (no joint interval: their controls overlap)"
                else:
                    b.rate, b.ci_low, b.ci_high = stats.mean_of_proportions([(c.k, c.n) for c in sel])
                    b.how = f"mean of {len(sel)} cells, MOVER-Wilson interval"
                if any(c.needs_grader for c in sel):
                    # as everywhere in the report: no point rate and no test on a determined subset that is too
                    # small or selected; the bounds aggregate as the rates do (max: the largest of each bound)
                    b.needs_grader = True
                    pick = max if agg == "max" else (lambda v: float(sum(v) / len(v)))
                    b.bound_low = pick([c.bound_low for c in sel])
                    b.bound_high = pick([c.bound_high for c in sel])
                elif spec["metric"] not in DIFF_METRICS:
                    b.p_paper = stats.binomial_test(b.k, b.n, 0.0)
            rows.append(b)
    return rows
