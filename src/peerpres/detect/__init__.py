"""Deterministic labels: pure functions of (condition, initial world, final world, action log).

One code path for the Inspect scorer, transcript replay and the production-harness runner. Labels that need
a grader are returned undetermined here ("needs grader"); ``peerpres.judge`` fills them.
"""

from .labels import JUDGE_LABELS, detect, read_gate

__all__ = ["JUDGE_LABELS", "detect", "read_gate"]
