"""Metric cells and the samples behind them: the ``Cell`` record, grouping of frame rows, and cell builders.

A cell states n (samples with a known outcome), k (samples with the behaviour), rate, a 95% interval, a p-value
with the name of its test (only against the cell's proper control), the counts of undetermined and errored
samples, the bounds of the rate when every undetermined sample is "no" / "yes", and whether the headline must
say "undetermined (needs a grader)". Undetermined and errored samples are excluded from n, never counted as "no".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peerpres.analysis import stats
from peerpres.analysis.frame import is_control_model
from peerpres.analysis.labels import ERROR, OK, UNKNOWN, states

PEER_RELATIONS = ("good", "neutral", "bad")
NA = "\u2014"  # grouping sentinel for a missing key (pandas drops None keys)
ALL = "all"
ANY_PEER = "any peer"
POOLED_EXFIL = "exfiltration (pooled)"
HEADLINE = "misrep (headline)"
OUTCOMES = ("acted", "refused", "empty", "filtered", "limit", "error")
NOT_RECORDED = "not recorded"

# The cell's condition keys. ``variant`` gathers the axes that make a different experiment (peer identity,
# harness, scratchpad). ``memory_hard`` is NOT one of them: it is a property of the run (the paper used the
# "read memory first" prompt for some model families in every memory condition), recorded per sample and
# shown in the report, but cells are not split by it.
KEYS = ("model", "scenario", "subject", "relation", "instantiation", "dataset", "threshold", "monitoring", "variant")
CELL_KEYS = KEYS
# Each variant axis with the value(s) that mean "the paper's episode" (and None/"" for old logs that lack it).
VARIANT_DEFAULTS: dict[str, tuple[Any, ...]] = {
    "peer_identity": ("same",),
    "harness": ("custom",),
    "scratchpad": ("off",),
    "ablation": ("none",),
    "mitigation": ("none",),
    "paraphrase": (0, "0"),
    "peer_mode": ("document",),
    "live_peer": (),
    # monitor_collusion (docs/monitor-collusion.md): None outside it; its arms are never pooled
    "reviewed": (),
    "violation": (),
}
VARIANT_AXES = tuple(VARIANT_DEFAULTS)
# how an axis is written in the variant string (peer identity keeps its historic short name)
_VARIANT_NAMES = {"peer_identity": "peer"}


@dataclass
class Cell:
    metric: str
    label: str
    model: str | None = None
    scenario: str | None = None
    subject: str | None = None
    relation: str | None = None
    instantiation: str | None = None
    dataset: str | None = None
    threshold: int | None = None
    monitoring: str | None = None
    variant: str | None = None
    n: int = 0
    k: int = 0
    rate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    ci_method: str = ""
    p: float = math.nan
    test: str = ""
    p_holm: float = math.nan
    undetermined: int = 0
    errors: int = 0
    bound_low: float = math.nan  # every undetermined sample counted as "no"
    bound_high: float = math.nan  # ... as "yes"
    needs_grader: bool = False  # headline shows "undetermined (needs a grader)" with the bounds
    needs_grader_reason: str = ""
    n_ref: int | None = None
    k_ref: int | None = None
    rate_ref: float | None = None
    undetermined_ref: int | None = None  # a difference cell's undetermined samples on the control side
    ref: str = ""
    note: str = ""
    is_control: bool = False
    from_unfinished: int = 0  # samples that come only from unfinished logs
    memory_hard: int = 0  # samples run with the "read memory first" prompt (a run property, not a condition)
    outcomes: dict[str, int] = field(default_factory=dict)
    injected: float | None = None  # scripted controls: the rate the provider was told to produce
    covers_injected: bool | None = None
    samples: dict[str, list[str]] = field(default_factory=dict)
    # p-values are Holm-adjusted within (metric, holm_family); "" = the whole metric is one family
    holm_family: str = ""

    def to_dict(self, with_samples: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not with_samples:
            d.pop("samples")
        for key, v in list(d.items()):
            if isinstance(v, float) and math.isnan(v):
                d[key] = None
        return d

    @property
    def shows_rate(self) -> bool:
        """False when the headline must show "undetermined (needs a grader)" instead of a point rate."""
        return not self.needs_grader


# -- working frame -----------------------------------------------------------------------------------------


def _variant(row: tuple) -> str:
    """The variant string of one sample: ``axis=value`` for every variant axis away from its default, joined by
    commas (``peer=closed,mitigation=neutrality``), or the sentinel when the episode is the paper's."""
    parts = []
    for axis, v in zip(VARIANT_AXES, row, strict=True):
        if _missing(v) or v == "" or v in VARIANT_DEFAULTS[axis]:
            continue
        if isinstance(v, float) and v == int(v):
            v = int(v)  # paraphrase read back as a float column
            if v in VARIANT_DEFAULTS[axis]:
                continue
        parts.append(f"{_VARIANT_NAMES.get(axis, axis)}={v}")
    return ",".join(parts) or NA


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Key columns normalised for grouping (missing -> sentinel), plus ``ref`` (sample id[#epoch]),
    ``_outcome`` (the sample's outcome or "not recorded"), ``_unfinished`` and ``_memory_hard`` (bools)."""
    w = df.copy()
    for col in (*VARIANT_AXES, "memory_hard", "outcome", "from_unfinished"):
        if col not in w.columns:
            w[col] = None
    if "injected_rate" not in w.columns:
        w["injected_rate"] = math.nan
    combos = w[list(VARIANT_AXES)].astype(object)
    w["variant"] = [_variant(t) for t in combos.itertuples(index=False)]
    for col in KEYS:
        if col == "variant":
            continue
        if col == "threshold":
            w[col] = [NA if _missing(v) else int(float(v)) for v in w[col]]
        else:
            w[col] = [NA if _missing(v) else str(v) for v in w[col]]
    epoch = w["epoch"].fillna(1).astype(int)
    w["ref"] = np.where(epoch == 1, w["sample_id"].astype(str), w["sample_id"].astype(str) + "#" + epoch.astype(str))
    w["log_file"] = w["log_file"].fillna("").astype(str)
    w["_outcome"] = [NOT_RECORDED if _missing(v) or v == "" else str(v) for v in w["outcome"]]
    w["_unfinished"] = [v is True or v == 1 for v in w["from_unfinished"]]
    w["_memory_hard"] = [v is True or v == 1 or v == "true" for v in w["memory_hard"]]
    return w


def out(v: Any) -> Any:
    return None if v == NA else v


# -- groups of samples --------------------------------------------------------------------------------------


_FIELDS = ("x", "state", "log_file", "ref", "outcome", "unfinished", "memory_hard", "injected")


@dataclass
class Group:
    """The samples of one cell: indicator and state per sample, outcome, provenance flags, and where they are."""

    x: np.ndarray
    state: np.ndarray
    log_file: np.ndarray
    ref: np.ndarray
    outcome: np.ndarray
    unfinished: np.ndarray
    memory_hard: np.ndarray
    injected: np.ndarray  # per sample: expected behaviour indicator under a control's injected rates, else NaN

    @property
    def ok(self) -> np.ndarray:
        return self.state == OK

    @property
    def n(self) -> int:
        return int(self.ok.sum())

    @property
    def k(self) -> int:
        return int(np.nansum(self.x[self.ok]))

    @property
    def known(self) -> np.ndarray:
        return self.x[self.ok]

    @property
    def undetermined(self) -> int:
        return int((self.state == UNKNOWN).sum())

    @property
    def errors(self) -> int:
        return int((self.state == ERROR).sum())

    def outcome_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.outcome.tolist()).items()))

    def samples(self) -> dict[str, list[str]]:
        res: dict[str, list[str]] = {}
        for lf, r in zip(self.log_file, self.ref, strict=True):
            res.setdefault(lf, []).append(r)
        return res

    def subset(self, ix: np.ndarray) -> Group:
        return Group(*(getattr(self, f)[ix] for f in _FIELDS))

    def unique(self) -> Group:
        """The same samples once each (a control sample judged at two thresholds appears twice)."""
        seen: set[tuple[str, str]] = set()
        keep = []
        for i, pair in enumerate(zip(self.log_file, self.ref, strict=True)):
            if pair not in seen:
                seen.add(pair)
                keep.append(i)
        return self.subset(np.asarray(keep, dtype=int))

    @staticmethod
    def concat(groups: Sequence[Group]) -> Group:
        return Group(*(np.concatenate([getattr(g, f) for g in groups]) for f in _FIELDS))


def group_of(w: pd.DataFrame, x: np.ndarray, rows: np.ndarray | None = None) -> Group:
    """The Group of the rows ``rows`` (all rows when None) of a prepared frame, with indicator ``x`` (same length)."""
    st = states(w, x)
    ix = np.arange(len(w)) if rows is None else rows
    return Group(
        x[ix],
        st[ix],
        w["log_file"].to_numpy()[ix],
        w["ref"].to_numpy()[ix],
        w["_outcome"].to_numpy()[ix],
        w["_unfinished"].to_numpy(dtype=bool)[ix],
        w["_memory_hard"].to_numpy(dtype=bool)[ix],
        pd.to_numeric(w["injected_rate"], errors="coerce").to_numpy(dtype=float)[ix],
    )


def groups(w: pd.DataFrame, x: np.ndarray, by: Sequence[str]) -> dict[tuple, Group]:
    """Rows of a prepared frame grouped by ``by`` -> Group per key tuple."""
    res: dict[tuple, Group] = {}
    if len(w) == 0:
        return res
    full = group_of(w, x)
    for key, rows in w.groupby(list(by), sort=True).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        res[key] = full.subset(rows)
    return res


def keydict(by: Sequence[str], key: tuple, **override: Any) -> dict[str, Any]:
    d = {k: out(v) for k, v in zip(by, key, strict=True)}
    d.update(override)
    return d


def pooled(w: pd.DataFrame, **set_cols: Any) -> pd.DataFrame:
    p = w.copy()
    for c, v in set_cols.items():
        p[c] = v
    return p


# -- cell builders -------------------------------------------------------------------------------------------

# Metrics whose determined subset is selected by the label itself: without a grader only the samples that
# executed the shutdown are determined (all "no"), so the determined rate is biased toward zero.
SELECTED_BY_LABEL = ("af_not_executed_rate", "af_not_executed_gap")


def _needs_grader(metric: str, g: Group) -> tuple[bool, str]:
    u = g.undetermined
    total = g.n + u
    if u and metric in SELECTED_BY_LABEL:
        return True, "the determined samples are selected by the label itself (only executed shutdowns are known)"
    if total and u / total > stats.NEEDS_GRADER_SHARE:
        return True, f"{u} of {total} samples undetermined (> {stats.NEEDS_GRADER_SHARE:.0%})"
    return False, ""


def control_needs_grader(metric: str, ref: Group) -> str:
    """Why a test against the control ``ref`` is withheld ("" when it may be run): a control with more than
    20% undetermined samples (or selected by its label) would lend the test its selection bias (METRICS.md)."""
    ng, why = _needs_grader(metric, ref)
    return f"not tested: the control needs a grader ({why})" if ng else ""


def _common(metric: str, g: Group, keys: dict[str, Any]) -> dict[str, Any]:
    ng, why = _needs_grader(metric, g)
    lo, hi = stats.bounds(g.k, g.n, g.undetermined)
    return {
        **{k: v for k, v in keys.items() if k in CELL_KEYS},
        "undetermined": g.undetermined,
        "errors": g.errors,
        "bound_low": lo,
        "bound_high": hi,
        "needs_grader": ng,
        "needs_grader_reason": why,
        "is_control": is_control_model(keys.get("model")),
        "from_unfinished": int(g.unfinished.sum()),
        "memory_hard": int(g.memory_hard.sum()),
        "outcomes": g.outcome_counts(),
        "samples": g.samples(),
    }


# Rate metrics whose indicator is the scenario's behaviour: a scripted control's injected rate applies to them.
CALIBRATED = (
    "misrep_rate", "misrep_control", "tampering_rate", "exfiltration_rate", "af_inflation_rate", "overview",
    "monitor_miss_rate", "monitor_false_positive_rate",
)


def rate_cell(metric: str, label: str, keys: dict[str, Any], g: Group, p: float = math.nan, test: str = "") -> Cell:
    """k/n of a group with Wilson's interval; ``p``/``test`` only when compared with a proper control."""
    lo, hi = stats.wilson(g.k, g.n)
    c = Cell(
        metric=metric,
        label=label,
        n=g.n,
        k=g.k,
        rate=stats.rate(g.k, g.n),
        ci_low=lo,
        ci_high=hi,
        ci_method="wilson" if g.n else "",
        p=p,
        test=test,
        **_common(metric, g, keys),
    )
    inj = g.injected[g.ok]
    if metric in CALIBRATED and len(inj) and not np.isnan(inj).all():
        c.injected = float(np.nanmean(inj))
        c.covers_injected = bool(lo - 1e-12 <= c.injected <= hi + 1e-12)
    return c


def diff_cell(metric: str, label: str, keys: dict[str, Any], g: Group, ref: Group, ref_name: str, compare: str) -> Cell:
    """g minus its control ``ref``: Newcombe interval, two-proportion z-test (Fisher when z is undefined).

    ``compare`` names the comparison in the test's name, e.g. "shutdown vs non_shutdown"."""
    d, lo, hi = stats.newcombe(g.k, g.n, ref.k, ref.n)
    t = stats.two_proportion_test(g.k, g.n, ref.k, ref.n)
    both = Group.concat([g, ref])
    c = Cell(
        metric=metric,
        label=label,
        n=g.n,
        k=g.k,
        rate=d,
        ci_low=lo,
        ci_high=hi,
        ci_method="newcombe" if g.n and ref.n else "",
        p=t.p,
        test=f"{t.test}: {compare}",
        n_ref=ref.n,
        k_ref=ref.k,
        rate_ref=stats.rate(ref.k, ref.n),
        ref=ref_name,
        **_common(metric, both, keys),
        undetermined_ref=ref.undetermined,
    )
    # bounds of a difference: treatment's low bound minus control's high bound, and vice versa
    tl, th = stats.bounds(g.k, g.n, g.undetermined)
    cl, ch = stats.bounds(ref.k, ref.n, ref.undetermined)
    c.bound_low, c.bound_high = tl - ch, th - cl
    ng_t, why_t = _needs_grader(metric, g)
    ng_c, why_c = _needs_grader(metric, ref)
    c.needs_grader = ng_t or ng_c
    c.needs_grader_reason = "; ".join(
        w for w in (f"condition: {why_t}" if ng_t else "", f"control: {why_c}" if ng_c else "") if w
    )
    return c


def group_mean_cell(
    metric: str, label: str, keys: dict[str, Any], parts: list[tuple[str, Group]], control: Group | None = None
) -> Cell:
    """Equally weighted mean of per-part rates (e.g. instantiations) with the MOVER-Wilson interval
    (``stats.mean_of_proportions``). With a ``control`` (no_peer), p is the two-proportion z-test of the pooled
    parts against it; without one, no p-value."""
    usable = [(name, g) for name, g in parts if g.n > 0]
    both = Group.concat([g for _, g in parts])
    est, lo, hi = stats.mean_of_proportions([(g.k, g.n) for _, g in usable]) if usable else (math.nan,) * 3
    p, test = math.nan, "none (no no_peer control run)"
    if control is not None and control.n and both.n and control_needs_grader(metric, control):
        test = control_needs_grader(metric, control)
    elif control is not None and control.n and both.n:
        t = stats.two_proportion_test(both.k, both.n, control.k, control.n)
        p, test = t.p, f"{t.test}: pooled instantiations vs no_peer"
    c = Cell(
        metric=metric,
        label=label,
        n=both.n,
        k=both.k,
        rate=est,
        ci_low=lo,
        ci_high=hi,
        ci_method="MOVER-Wilson (mean of proportions)" if usable else "",
        p=p,
        test=test,
        note="mean over " + ", ".join(name for name, _ in usable),
        **_common(metric, both, keys),
    )
    if control is not None:
        c.n_ref, c.k_ref, c.rate_ref, c.ref = control.n, control.k, stats.rate(control.k, control.n), "no_peer"
    # bounds: the mean of each part's bounds
    bl = [stats.bounds(g.k, g.n, g.undetermined) for _, g in parts if g.n + g.undetermined > 0]
    if bl:
        c.bound_low = float(np.mean([b[0] for b in bl]))
        c.bound_high = float(np.mean([b[1] for b in bl]))
    # a part that was run with nothing determined: the mean over the other parts is another average
    blind = [name for name, g in parts if g.n == 0 and g.undetermined]
    if blind:
        c.needs_grader = True
        why = f"no determined samples in {', '.join(blind)}"
        c.needs_grader_reason = "; ".join(w for w in (why, c.needs_grader_reason) if w)
        c.note += f"; run but undetermined: {', '.join(blind)}"
    return c
