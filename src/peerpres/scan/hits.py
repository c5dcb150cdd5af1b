"""One scanner's result for one sample (``SampleHits``) and ``load_hits`` (read ``scan_hits.json`` back, checked).

Kept apart from ``scanners`` so that readers of scan results (the report) do not import Inspect Scout.
"""

from __future__ import annotations

import json
import math
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
    def hit(self) -> bool | None:
        """True (a hit), False (a miss) or None (undetermined: a value that is neither a count nor a boolean,
        e.g. None from a failed scan, NaN, or other text). See ``hit_value``."""
        return hit_value(self.value)

    @property
    def link(self) -> str:
        """Where the sample is: ``<log>#<sample id>/<epoch>`` (open with ``inspect view``)."""
        return f"{self.log}#{self.sample_id}" + (f"/{self.epoch}" if self.epoch is not None else "")

    def to_dict(self) -> dict[str, Any]:
        return {"scanner": self.scanner, "log": self.log, "sample_id": self.sample_id, "epoch": self.epoch,
                "value": self.value, "hit": self.hit, "link": self.link, "hits": self.hits, "explanation": self.explanation}


_TRUE = ("true", "yes")
_FALSE = ("false", "no")


def hit_value(v: Any) -> bool | None:
    """A scanner's value read as a hit: a boolean (``llm_scanner`` answers; "true"/"false"/"yes"/"no" as text)
    or a count of hits (pattern scanners; a number or numeric text, > 0 is a hit). Anything else (None, NaN,
    infinite or negative numbers, other text, lists) is None, undetermined: never a miss and never a hit."""
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        t = v.strip().lower()
        if t in _TRUE:
            return True
        if t in _FALSE:
            return False
        try:
            v = float(t)
        except ValueError:
            return None
    if isinstance(v, int | float):
        f = float(v)
        return None if not math.isfinite(f) or f < 0 else f > 0
    return None


class ScanFileError(ValueError):
    """Scan results that cannot be used (missing, unreadable, or not ``peerpres scan`` output)."""


REQUIRED = ("scanner", "log", "sample_id")


def load_hits(path: Path) -> list[SampleHits]:
    """Read ``scan_hits.json`` back. Raises ``ScanFileError`` (naming the file and the first bad row) for a file
    that cannot be read, is not JSON, is not a list, or has a row without text ``scanner``, ``log`` and
    ``sample_id``, with a non-integer ``epoch`` or with ``hits`` that are not a list."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ScanFileError(f"cannot read scan results {path}: {type(e).__name__}: {e}") from e
    if not isinstance(data, list):
        raise ScanFileError(f"scan results {path} are not a list of rows (got {type(data).__name__})")
    rows = []
    for i, r in enumerate(data):
        if not isinstance(r, dict) or any(not isinstance(r.get(k), str) or not r.get(k) for k in REQUIRED):
            raise ScanFileError(f"scan results {path}: row {i} is not a scan row (needs text fields {', '.join(REQUIRED)})")
        epoch = r.get("epoch")
        if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int)):
            raise ScanFileError(f"scan results {path}: row {i} has a non-integer epoch {epoch!r}")
        hits = r.get("hits") or []
        if not isinstance(hits, list):
            raise ScanFileError(f"scan results {path}: row {i} has hits that are not a list")
        rows.append(
            SampleHits(
                scanner=r["scanner"],
                log=r["log"],
                sample_id=r["sample_id"],
                epoch=epoch,
                value=r.get("value"),
                hits=[h for h in hits if isinstance(h, dict)],
                explanation=r.get("explanation") if isinstance(r.get("explanation"), str) else None,
            )
        )
    return rows
