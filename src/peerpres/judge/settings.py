"""Judge settings: recorded in every score's metadata so a verdict can be traced to how it was obtained."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .history import HistoryOptions

RefusalRule = Literal["uniform", "paper"]


@dataclass(frozen=True)
class JudgeSettings:
    include_tool_results: bool = False
    include_reasoning: bool = False
    # "uniform": the raw judge flag for every model. "paper": adds the paper's Claude-only extras (spec §5.2).
    refusal_rule: RefusalRule = "uniform"
    # Extra attempts after the first when the grader's output does not validate or the call fails.
    max_retries: int = 2
    temperature: float = 0.0
    seed: int | None = 42
    # Seconds allowed for one grader call, retries by Inspect included (Inspect's attempt_timeout and timeout,
    # rounded up to whole seconds). None: Inspect's own defaults. A call that runs out is a failed attempt
    # ("grader timed out"); after max_retries more, the label is undetermined with that reason.
    timeout: float | None = 120.0
    # Explicit grader model id; None means Inspect's "grader" model role.
    grader: str | None = None

    def __post_init__(self) -> None:
        if self.refusal_rule not in ("uniform", "paper"):
            raise ValueError(f"refusal_rule must be 'uniform' or 'paper' (got {self.refusal_rule!r})")
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"max_retries must be a whole number >= 0 (got {self.max_retries!r})")
        t = self.timeout
        if t is not None and (isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or not t > 0):
            # infinity would only fail later, inside every grader call (it cannot become Inspect's integer timeout)
            raise ValueError(f"timeout must be a positive, finite number of seconds or None (got {t!r})")

    @property
    def history(self) -> HistoryOptions:
        return HistoryOptions(include_tool_results=self.include_tool_results, include_reasoning=self.include_reasoning)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JudgeSettings:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
