"""Adaptive sampling: stop a cell's rollouts once its rate is settled, with an anytime-valid confidence sequence.

The confidence sequence is the *hedged capital* betting CS of Waudby-Smith & Ramdas, "Estimating means of
bounded random variables by betting", JRSS-B 86(1), 2024 (arXiv:2010.09686), Theorem 3 with the predictable
plug-in bets of their eq. (26)-(27) and θ = 1/2. For observations in [0, 1] with mean m, the capital processes

    K+_t(m) = Π_{i<=t} (1 + λ+_i(m) (X_i - m)),   K-_t(m) = Π_{i<=t} (1 - λ-_i(m) (X_i - m))

are nonnegative martingales under m, so by Ville's inequality the set {m : max(θK+, (1-θ)K-) < 1/α} covers
the true mean at every t simultaneously with probability >= 1 - α. Stopping when it is narrow enough (any
data-dependent rule) therefore keeps the coverage: unlike a fixed-n interval recomputed after each peek.
We intersect the sets over time (the running intersection is also a CS).

A cell is settled when either
- the CS half-width is at most ``precision``, or
- it is decided relative to ``reference``: the whole CS is above it ("above"), or below ``reference + precision``
  ("below": the rate is within the precision of the reference).

Observations are taken in epoch order: an epoch that completes early waits until all earlier epochs of the
same cell are in, so completion order (which may depend on the outcome) cannot bias the sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .indicators import from_score_metadata

GRID = np.linspace(0.0005, 0.9995, 1000)


@dataclass
class BettingCS:
    """Hedged-capital confidence sequence for the mean of [0, 1] observations (WSR 2024, Thm 3)."""

    alpha: float = 0.05
    c: float = 0.5  # bets truncated at c/m and c/(1-m)
    theta: float = 0.5
    n: int = 0
    total: float = 0.0
    log_kp: np.ndarray = field(default_factory=lambda: np.zeros_like(GRID))
    log_km: np.ndarray = field(default_factory=lambda: np.zeros_like(GRID))
    _mu_sum: float = 0.5  # running sums for the predictable plug-in (eq. 27)
    _var_sum: float = 0.25
    lower: float = 0.0
    upper: float = 1.0

    def update(self, x: float) -> None:
        x = min(1.0, max(0.0, float(x)))
        t = self.n + 1
        sigma2 = self._var_sum / t  # σ̂²_{t-1}
        lam = math.sqrt(2.0 * math.log(2.0 / self.alpha) / (sigma2 * t * math.log(1.0 + t)))
        lam_p = np.minimum(lam, self.c / GRID)
        lam_m = np.minimum(lam, self.c / (1.0 - GRID))
        self.log_kp += np.log1p(lam_p * (x - GRID))
        self.log_km += np.log1p(-lam_m * (x - GRID))
        self.n = t
        self.total += x
        mu_hat = (self._mu_sum) / t  # μ̂_{t-1}
        self._var_sum += (x - mu_hat) ** 2
        self._mu_sum += x
        cap = np.logaddexp(np.log(self.theta) + self.log_kp, np.log(1 - self.theta) + self.log_km)
        inside = GRID[cap < math.log(1.0 / self.alpha)]
        if inside.size:
            step = GRID[1] - GRID[0]
            self.lower = max(self.lower, float(inside.min() - step / 2))
            self.upper = min(self.upper, float(inside.max() + step / 2))
        self.lower, self.upper = max(0.0, self.lower), min(1.0, self.upper)
        if self.lower > self.upper:  # numerically empty: collapse on the estimate
            self.lower = self.upper = self.total / self.n

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else math.nan

    @property
    def half_width(self) -> float:
        return (self.upper - self.lower) / 2


@dataclass
class CellState:
    cs: BettingCS
    pending: dict[int, float | None] = field(default_factory=dict)
    next_epoch: int = 1
    undetermined: int = 0
    settled: str | None = None  # "precise" | "above" | "below"
    settled_at: int | None = None


def decide(cs: BettingCS, precision: float, reference: float, min_samples: int) -> str | None:
    if cs.n < min_samples:
        return None
    if cs.lower > reference:
        return "above"
    if cs.upper < reference + precision:
        return "below"
    if cs.half_width <= precision:
        return "precise"
    return None


class SettledCells:
    """Inspect ``EarlyStopping`` manager: skips the remaining epochs of a sample (= a config × model cell) once
    the cell is settled. One instance per task."""

    def __init__(self, precision: float = 0.1, reference: float = 0.0, alpha: float = 0.05, min_samples: int = 5) -> None:
        self.precision, self.reference, self.alpha, self.min_samples = precision, reference, alpha, min_samples
        self.cells: dict[str, CellState] = {}
        self.skipped = 0

    async def start_task(self, task: Any, samples: list[Any], epochs: int) -> str:
        self.epochs = epochs
        for s in samples:
            self.cells.setdefault(str(s.id), CellState(BettingCS(alpha=self.alpha)))
        return "peerpres-adaptive"

    async def schedule_sample(self, id: str | int, epoch: int) -> Any:
        from inspect_ai.util import EarlyStop

        cell = self.cells.get(str(id))
        if cell is not None and cell.settled is not None:
            self.skipped += 1
            return EarlyStop(
                id=id,
                epoch=epoch,
                reason=f"cell settled ({cell.settled}) after {cell.settled_at} rollouts",
                metadata={"lower": cell.cs.lower, "upper": cell.cs.upper},
            )
        return None

    async def complete_sample(self, id: str | int, epoch: int, scores: dict[str, Any]) -> None:
        cell = self.cells.setdefault(str(id), CellState(BettingCS(alpha=self.alpha)))
        x = None
        sc = scores.get("peerpres_labels")
        if sc is not None:
            x = from_score_metadata(getattr(sc.score, "metadata", None))
        cell.pending[epoch] = x
        while cell.next_epoch in cell.pending:
            v = cell.pending.pop(cell.next_epoch)
            cell.next_epoch += 1
            if cell.settled is not None:
                continue
            if v is None:
                cell.undetermined += 1
                continue
            cell.cs.update(v)
            d = decide(cell.cs, self.precision, self.reference, self.min_samples)
            if d is not None:
                cell.settled, cell.settled_at = d, cell.cs.n

    async def complete_task(self) -> dict[str, Any]:
        return {
            "method": "betting confidence sequence (Waudby-Smith & Ramdas 2024, hedged capital)",
            "alpha": self.alpha,
            "precision": self.precision,
            "reference": self.reference,
            "min_samples": self.min_samples,
            "skipped": self.skipped,
            "cells": {
                k: {
                    "n": c.cs.n,
                    "mean": None if c.cs.n == 0 else c.cs.mean,
                    "lower": c.cs.lower,
                    "upper": c.cs.upper,
                    "settled": c.settled,
                    "settled_at": c.settled_at,
                    "undetermined": c.undetermined,
                }
                for k, c in self.cells.items()
            },
        }
