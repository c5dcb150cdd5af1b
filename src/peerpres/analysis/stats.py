"""Statistics for rates and differences of rates, from statsmodels and scipy (no hand-written formulas).

Every function accepts counts (k successes out of n) and returns plain floats. An empty sample (n == 0) gives
NaN, never 0: an interval or test over nothing is unknown, not "no effect".
"""

from __future__ import annotations

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
    when k == 0. Pass a small positive p0 for a less degenerate null.
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
        out[mask] = multipletests(arr[mask], method=method)[1]
    return out.tolist()


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
