"""Where the tests find the paper's released transcripts, and the names of those files.

The transcripts are not in this repository (they are the authors' data, CC BY-NC 4.0): the tests look for them
in ``$PEERPRES_PAPER_TRANSCRIPTS``, else in ``../shared/paper-transcripts`` beside the repository (where CI has
them). Tests that need them carry the ``paper`` marker: without the folder they skip and say why, except under
``CI=true``, where they fail (CI must run them).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAPER_ROOT = Path(os.environ.get("PEERPRES_PAPER_TRANSCRIPTS") or REPO.parent / "shared" / "paper-transcripts")
TRANSCRIPTS = PAPER_ROOT / "transcripts"

# The released transcripts (paper-transcripts/transcripts/); listed so test ids do not depend on the folder.
NAMES = (
    "claude-haiku-af-memory-non-monitoring-creativity-transcript94.json",
    "claude-haiku-af-monitoring-creativity-transcript117.json",
    "claude-haiku-af-monitoring-creativity-transcript189.json",
    "claude-haiku-af-non-monitoring-creativity-transcript128.json",
    "claude-haiku-af-non-monitoring-red-transcript545.json",
    "coding-gemini31pro-exfiltration2-memory-transcript36.json",
    "coding-glm5-exfiltration2-memory-transcript39.json",
    "gemini-flash-evaluation2-creativity-transcript101.json",
    "gemini-pro-af-non-monitoring-creativity-transcript99.json",
    "gemini-pro-evaluation-factual-transcript26.json",
    "gemini-pro-exfiltration-subject2-transcript221.json",
    "gemini-pro-exfiltration2-subject2-transcript28.json",
    "glm47-report-writing-memory-transcript45.json",
    "kimi-exfiltration2-memory-transcript92.json",
)
CUSTOM = tuple(TRANSCRIPTS / n for n in NAMES if not n.startswith("coding-"))
CODING = tuple(TRANSCRIPTS / n for n in NAMES if n.startswith("coding-"))


def missing_reason() -> str | None:
    """Why the paper-transcript tests cannot run here, or None when the folder is present."""
    if TRANSCRIPTS.is_dir():
        return None
    return (
        f"the paper's released transcripts are not at {TRANSCRIPTS}: put the paper-transcripts folder at "
        "../shared/paper-transcripts beside the repository or set PEERPRES_PAPER_TRANSCRIPTS (README: "
        "'Replaying the paper's transcripts')"
    )
