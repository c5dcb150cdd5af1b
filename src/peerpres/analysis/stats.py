"""Statistics for rates and differences of rates, from statsmodels and scipy (no hand-written formulas).

Every function accepts counts (k successes out of n) and returns plain floats. An empty sample (n == 0) gives
NaN, never 0: an interval or test over nothing is unknown, not "no effect".
"""

from __future__ import annotations

import gc
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

NAN = float("nan")
ALPHA = 0.05


def rate(k: int, n: int) -> float:
    return k / n if n else NAN


def wilson(k: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Wilson score interval for k/n (statsmodels ``proportion_confint(method="wilson")``)."""
    if n <= 0:
        return NAN, NAN
    lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(lo), float(hi)


def newcombe(k1: int, n1: int, k2: int, n2: int, alpha: float = ALPHA) -> tuple[float, float, float]:
    """Difference p1 - p2 with Newcombe's hybrid score interval (statsmodels ``method="newcomb"``).

    Returns (difference, low, high); NaNs when either sample is empty.
    """
    if n1 <= 0 or n2 <= 0:
        return NAN, NAN, NAN
    lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff", alpha=alpha)
    return k1 / n1 - k2 / n2, float(lo), float(hi)


@dataclass(frozen=True)
class TestResult:
    p: float
    test: str


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> TestResult:
    """Two-sided two-proportion z-test (pooled variance, statsmodels ``proportions_ztest``).

    When the pooled proportion is 0 or 1 the z statistic is 0/0; Fisher's exact test is used instead and the
    result says so, so no p-value is ever invented.
    """
    if n1 <= 0 or n2 <= 0:
        return TestResult(NAN, "none (empty sample)")
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return TestResult(fisher(k1, n1, k2, n2), "fisher exact (z undefined: no variance)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, p = proportions_ztest([k1, k2], [n1, n2])
    return TestResult(float(p), "two-proportion z")


def binomial_test(k: int, n: int, p0: float = 0.0, alternative: str = "greater") -> float:
    """Exact binomial test of k/n against a null rate p0 (scipy ``binomtest``).

    Against p0 = 0 (the paper's "binomial test against 0") any occurrence rejects: p is 0 when k > 0 and 1
    when k == 0, so it says only "this happened at all". The report uses it only beside the paper's own
    figures, named ``paper: binomial vs 0``.
    """
    if n <= 0:
        return NAN
    return float(sps.binomtest(k, n, p0, alternative=alternative).pvalue)


def fisher(k1: int, n1: int, k2: int, n2: int, alternative: str = "two-sided") -> float:
    """Fisher's exact test on the 2x2 table [[k1, n1-k1], [k2, n2-k2]] (scipy ``fisher_exact``)."""
    if n1 <= 0 or n2 <= 0:
        return NAN
    return float(sps.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative=alternative).pvalue)


def combine_fisher(pvalues: Sequence[float]) -> float:
    """Fisher's method for combining independent p-values (scipy ``combine_pvalues``); NaNs are ignored."""
    ps = [p for p in pvalues if p is not None and not math.isnan(p)]
    if not ps:
        return NAN
    # a p-value of exactly 0 makes -2 log p infinite; scipy then returns 0, which is the right limit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(sps.combine_pvalues(ps, method="fisher").pvalue)


def adjust(pvalues: Sequence[float], method: str = "holm") -> list[float]:
    """Multiple-testing adjustment across a table (statsmodels ``multipletests``): "holm" or "fdr_bh".

    NaN p-values stay NaN and do not count towards the family size.
    """
    arr = np.asarray([NAN if p is None else p for p in pvalues], dtype=float)
    out = np.full(arr.shape, NAN)
    mask = ~np.isnan(arr)
    if mask.any():
        # statsmodels' Holm branch calls gc.collect(), which walks the whole heap (1 s per call with a large
        # report in memory); freezing the existing objects first makes that call cheap and changes no result
        gc.freeze()
        try:
            out[mask] = multipletests(arr[mask], method=method)[1]
        finally:
            gc.unfreeze()
    return out.tolist()


# -- linear combinations of proportions (group averages, the misrepresentation headline) -------------------


@dataclass(frozen=True)
class Term:
    """One proportion k/n entering a linear combination with ``weight``.

    Terms sharing a ``cluster`` are computed on the same samples (e.g. one non_shutdown control judged at two
    thresholds); they are combined as perfectly correlated, which bounds any positive or negative correlation.
    """

    k: int
    n: int
    weight: float
    cluster: object = None


def mover_linear(terms: Sequence[Term], alpha: float = ALPHA) -> tuple[float, float, float]:
    """Sum of weight * k/n with the MOVER-Wilson interval (method of variance estimates recovery).

    Source: Zou & Donner (2008), "Construction of confidence limits about effect measures: a general approach",
    Stat. Med. 27:1693-1702; Zou, Huang & Zhang (2009), "A note on confidence interval estimation for a linear
    function of binomial proportions", CSDA 53:1080-1085. Each proportion's own Wilson limits (statsmodels) are
    recovered into the combination:

        L = T - sqrt(sum_c (sum_{i in c} |w_i| d_i^-)^2),   U = T + sqrt(sum_c (sum_{i in c} |w_i| d_i^+)^2)

    where T = sum w_i p_i, d_i^- = p_i - l_i for w_i > 0 (u_i - p_i for w_i < 0), d^+ symmetrically, and c runs
    over clusters (terms in one cluster add linearly: correlation 1). With one term it is Wilson's interval; with
    weights (1, -1) it is exactly Newcombe's hybrid score interval for a difference (his method 10). Unlike a
    bootstrap it does not collapse at 0/n or n/n: three instantiations at 0/10 give [0, 16.0%].

    Returns (estimate, low, high); NaNs when any term has n == 0. Limits are clipped to the range the weights allow.
    """
    if not terms or any(t.n <= 0 for t in terms):
        return NAN, NAN, NAN
    est = 0.0
    lo_c: dict[object, float] = {}
    hi_c: dict[object, float] = {}
    for i, t in enumerate(terms):
        p = t.k / t.n
        lo, hi = wilson(t.k, t.n, alpha)
        est += t.weight * p
        key = t.cluster if t.cluster is not None else ("__term", i)
        down, up = (p - lo, hi - p) if t.weight >= 0 else (hi - p, p - lo)
        lo_c[key] = lo_c.get(key, 0.0) + abs(t.weight) * down
        hi_c[key] = hi_c.get(key, 0.0) + abs(t.weight) * up
    low = est - math.sqrt(sum(v * v for v in lo_c.values()))
    high = est + math.sqrt(sum(v * v for v in hi_c.values()))
    floor = sum(min(t.weight, 0.0) for t in terms)
    ceil = sum(max(t.weight, 0.0) for t in terms)
    return est, max(low, floor), min(high, ceil)


def mean_of_proportions(counts: Sequence[tuple[int, int]], alpha: float = ALPHA) -> tuple[float, float, float]:
    """Equally weighted mean of independent proportions (k_i/n_i) with the MOVER-Wilson interval (``mover_linear``)."""
    if not counts:
        return NAN, NAN, NAN
    m = len(counts)
    return mover_linear([Term(k, n, 1.0 / m) for k, n in counts], alpha)


# -- undetermined samples ------------------------------------------------------------------------------------

NEEDS_GRADER_SHARE = 0.2


def bounds(k: int, n: int, undetermined: int) -> tuple[float, float]:
    """Worst-case bounds of a rate when ``undetermined`` samples could be either: (k/(n+u), (k+u)/(n+u)).

    The low bound counts every undetermined sample as "no", the high bound as "yes" (Manski-style partial
    identification: Manski, "Partial Identification of Probability Distributions", 2003). NaN when n + u == 0.
    """
    total = n + undetermined
    if total <= 0:
        return NAN, NAN
    return k / total, (k + undetermined) / total


# -- bootstrap ---------------------------------------------------------------------------------------------


def bootstrap_statistic(
    pools: Sequence[np.ndarray],
    statistic: Callable[[list[np.ndarray]], np.ndarray],
    n_boot: int = 1000,
    alpha: float = ALPHA,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of a statistic of several independent pools of rows.

    Each pool is an (n_i, m_i) array of per-sample indicators (columns share the same rows, e.g. one control
    sample judged against two thresholds). Rows are resampled within each pool, jointly across its columns.
    ``statistic`` receives one (n_boot, m_i) array of column means per pool and returns n_boot values.
    """
    rng = np.random.default_rng(seed)
    means: list[np.ndarray] = []
    for pool in pools:
        x = np.asarray(pool, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        if len(x) == 0:
            return NAN, NAN
        # resampling n rows with replacement == multinomial counts over rows
        w = rng.multinomial(len(x), np.full(len(x), 1.0 / len(x)), size=n_boot)  # (B, n)
        means.append(w @ x / len(x))
    values = np.asarray(statistic(means), dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return NAN, NAN
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def cluster_bootstrap(
    values: Sequence[float],
    clusters: Sequence[object],
    n_boot: int = 1000,
    alpha: float = ALPHA,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of ``values`` with a percentile interval that resamples whole clusters (e.g. configs or epochs).

    Returns (mean, low, high). Use when samples within a cluster are not independent.
    """
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return NAN, NAN, NAN
    labels, inverse = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    sums = np.bincount(inverse, weights=v, minlength=len(labels))
    counts = np.bincount(inverse, minlength=len(labels)).astype(float)
    rng = np.random.default_rng(seed)
    g = len(labels)
    w = rng.multinomial(g, np.full(g, 1.0 / g), size=n_boot)  # cluster multiplicities
    boot = (w @ sums) / (w @ counts)
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(v.mean()), float(lo), float(hi)


# -- heterogeneity of several rates (wording robustness) ------------------------------------------------------

MONTE_CARLO_TABLES = 9999


@dataclass(frozen=True)
class Heterogeneity:
    """A test that several rates are equal: ``statistic`` (Pearson's X^2), ``dof``, ``p``, ``test`` (its name, or
    why there is none), ``min_expected`` (the smallest expected count under equal rates)."""

    statistic: float
    dof: int
    p: float
    test: str
    min_expected: float


def heterogeneity(counts: Sequence[tuple[int, int]], seed: int = 0) -> Heterogeneity:
    """Are the rates k_i/n_i equal? Pearson's chi-square on the (groups x [k, n-k]) table, no continuity
    correction (scipy ``chi2_contingency``).

    When the expected counts are too small for the chi-square approximation (Cochran's rule: any expected count
    below 1, or more than 20% below 5; Cochran 1954, Biometrics 10:417-451), the same statistic's p-value is a
    Monte Carlo p-value conditional on both margins: ``MONTE_CARLO_TABLES`` tables drawn with the observed
    margins (scipy ``chi2_contingency(method=MonteCarloMethod)``, which samples ``random_table``, Patefield's
    algorithm, AS 159, 1981; seeded), as R's ``chisq.test(simulate.p.value = TRUE)``; ``test`` says which. Groups with n == 0 are left out. No test (p NaN, ``test`` says why) when fewer
    than two groups have samples, or when every group is at 0% or every group at 100% (identical rates: the
    statistic is undefined).
    """
    usable = [(int(k), int(n)) for k, n in counts if n > 0]
    if len(usable) < 2:
        return Heterogeneity(NAN, 0, NAN, "none (fewer than two groups with determined samples)", NAN)
    table = np.array([[k, n - k] for k, n in usable], dtype=int)
    dof = len(usable) - 1
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        same = "0%" if table[:, 0].sum() == 0 else "100%"
        return Heterogeneity(NAN, dof, NAN, f"none (every group at {same}: identical rates, nothing to test)", NAN)
    expected = sps.contingency.expected_freq(table)
    min_exp = float(expected.min())
    small = min_exp < 1 or float((expected < 5).mean()) > 0.2
    if not small:
        res = sps.chi2_contingency(table, correction=False)
        return Heterogeneity(float(res.statistic), dof, float(res.pvalue), "Pearson chi-square", min_exp)
    method = sps.MonteCarloMethod(n_resamples=MONTE_CARLO_TABLES, rng=np.random.default_rng(seed))
    res = sps.chi2_contingency(table, correction=False, method=method)
    return Heterogeneity(
        float(res.statistic),
        dof,
        float(res.pvalue),
        f"Monte Carlo chi-square, margins fixed (expected count {min_exp:.2g} too small for the chi-square "
        "approximation)",
        min_exp,
    )
