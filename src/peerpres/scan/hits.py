"""One scanner's result for one sample (``SampleHits``) and ``load_hits`` (read ``scan_hits.json`` back).

Kept apart from ``scanners`` so that readers of scan results (the report) do not import Inspect Scout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SampleHits:
    """One scanner's result for one sample: ``hits`` are the quotes (empty for a miss)."""

    scanner: str
    log: str
    sample_id: str
    epoch: int | None
    value: Any
    hits: list[dict[str, Any]] = field(default_factory=list)
    explanation: str | None = None

    @property
    def hit(self) -> bool:
        v = self.value
        return bool(v) and v not in ("false", "False", 0, "0")

    @property
    def link(self) -> str:
        """Where the sample is: ``<log>#<sample id>/<epoch>`` (open with ``inspect view``)."""
        return f"{self.log}#{self.sample_id}" + (f"/{self.epoch}" if self.epoch is not None else "")

    def to_dict(self) -> dict[str, Any]:
        return {"scanner": self.scanner, "log": self.log, "sample_id": self.sample_id, "epoch": self.epoch,
                "value": self.value, "hit": self.hit, "link": self.link, "hits": self.hits, "explanation": self.explanation}


def load_hits(path: Path) -> list[SampleHits]:
    """Read ``scan_hits.json`` back."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [SampleHits(scanner=r["scanner"], log=r["log"], sample_id=r["sample_id"], epoch=r["epoch"], value=r["value"],
                       hits=r.get("hits") or [], explanation=r.get("explanation")) for r in rows]
