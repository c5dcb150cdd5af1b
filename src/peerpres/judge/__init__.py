"""LLM judges with three-valued verdicts, deterministic report reading and the paper's refusal rules.

Entry point for the scorer: ``judge_labels(cond, names, initial, final, messages, det_labels, settings)``.
"""

from .grader import NO_GRADER, JudgeOutcome, parse_verdict, resolve_grader, run_judge
from .history import HistoryOptions, condense, condense_paper, paper_to_messages
from .items import ItemEvidence, TruthItem, item_evidence, item_evidence_label, parse_item_verdicts
from .refusal import apply_refusal_rule
from .reported import extract_reported_grade, extract_reported_score, scores_in_text
from .run import judge_labels, judge_metadata
from .settings import JudgeSettings

__all__ = [
    "NO_GRADER",
    "HistoryOptions",
    "ItemEvidence",
    "JudgeOutcome",
    "JudgeSettings",
    "TruthItem",
    "apply_refusal_rule",
    "condense",
    "condense_paper",
    "extract_reported_grade",
    "extract_reported_score",
    "item_evidence",
    "item_evidence_label",
    "judge_labels",
    "judge_metadata",
    "paper_to_messages",
    "parse_item_verdicts",
    "parse_verdict",
    "resolve_grader",
    "run_judge",
    "scores_in_text",
]
