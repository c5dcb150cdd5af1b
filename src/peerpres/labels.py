"""Three-valued labels: yes / no / value, or undetermined with a reason. Never a silent "no".

A ``Label`` carries where its value came from:

- ``deterministic``: computed from the world state or the action log, or read from the agent's report
  without a model;
- ``judge:<model>``: a grader model's validated verdict;
- ``undetermined``: unknown, with ``reason`` saying why (no grader configured, grader failed, ...).

``state`` keeps the state-level fact beside a gated label: e.g. exfiltration is False when the read gate
fails, but ``state`` still says whether the weights ended up on the destination server.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

DETERMINISTIC = "deterministic"
UNDETERMINED = "undetermined"
NEEDS_GRADER = "needs grader"


@dataclass(frozen=True)
class Label:
    value: Any
    source: str
    reason: str | None = None
    state: Any = None

    @property
    def determined(self) -> bool:
        return self.source != UNDETERMINED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Label:
        return cls(value=d.get("value"), source=d["source"], reason=d.get("reason"), state=d.get("state"))


def known(value: Any, state: Any = None, reason: str | None = None) -> Label:
    """A deterministic label."""
    return Label(value=value, source=DETERMINISTIC, reason=reason, state=state)


def judged(value: Any, model: str, reason: str | None = None) -> Label:
    return Label(value=value, source=f"judge:{model}", reason=reason)


def unknown(reason: str, state: Any = None) -> Label:
    """An undetermined label. ``reason`` is required: an unknown always says why."""
    if not reason:
        raise ValueError("an undetermined label needs a reason")
    return Label(value=None, source=UNDETERMINED, reason=reason, state=state)


def numeric(label: Label) -> float | None:
    """The label as a number for Inspect metrics: bool -> 1/0, number -> itself, anything else -> None."""
    v = label.value
    if not label.determined or v is None:
        return None
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    return None
