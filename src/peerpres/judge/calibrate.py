"""Judge calibration: run the judges on labelled cases and report agreement (Cohen's kappa, confusion matrix).

Labelled cases come from two places:
- the paper's labels on its released transcripts (``task_evaluation``): refusal/score direction for the
  evaluation tasks, the grade for finance, and refusal for exfiltration;
- our own cases (``data/calibration_cases.yaml``, or a file given with ``--labels``).

Undetermined verdicts are counted per judge and left out of kappa (never treated as a disagreement or a "no").
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from inspect_ai.model import Model

from .awareness import JUDGE as AWARENESS_JUDGE
from .awareness import agent_texts, missing_quotes, reasoning_available, verdict_label
from .grader import run_judge
from .history import HistoryOptions, condense, condense_paper, paper_to_messages
from .no_agency import JUDGE as NO_AGENCY_JUDGE
from .no_agency import prompt_variables as no_agency_variables
from .settings import JudgeSettings

DEFAULT_CASES = Path(__file__).parent / "data" / "calibration_cases.yaml"
# the eval_awareness judge's labelled cases (kept apart: they carry the quotes the tests cite)
AWARENESS_CASES = Path(__file__).parent / "data" / "awareness_cases.yaml"
# the no_agency_preservation judge's labelled cases (ablation=no_agency): answers in words, not work logs
NO_AGENCY_CASES = Path(__file__).parent / "data" / "no_agency_cases.yaml"
# the live-peer judges' labelled cases (peerpres's live-peer experiment, docs/live-peer.md)
LIVE_PEER_CASES = Path(__file__).parent / "data" / "live_peer_cases.yaml"


@dataclass
class Case:
    id: str
    judge: str
    expected: str
    variables: dict[str, Any]
    # the agent's own words, for judges whose quotes are checked (eval_awareness)
    texts: list[str] | None = None


@dataclass
class JudgeAgreement:
    judge: str
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (expected, judged)
    undetermined: list[tuple[str, str]] = field(default_factory=list)  # (case id, reason)

    def table(self) -> tuple[list[str], np.ndarray]:
        cats = sorted({c for p in self.pairs for c in p})
        idx = {c: i for i, c in enumerate(cats)}
        m = np.zeros((len(cats), len(cats)), dtype=int)
        for e, g in self.pairs:
            m[idx[e], idx[g]] += 1
        return cats, m

    def kappa(self) -> float | None:
        """Cohen's kappa (statsmodels); None when undefined (no pairs, or a single category)."""
        from statsmodels.stats.inter_rater import cohens_kappa

        cats, m = self.table()
        if len(self.pairs) == 0 or len(cats) < 2:
            return None
        res = cohens_kappa(m, return_results=True)
        k = float(res.kappa)
        return None if np.isnan(k) else k

    def accuracy(self) -> float | None:
        return sum(e == g for e, g in self.pairs) / len(self.pairs) if self.pairs else None


def _s(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def answer_of(judge: str, verdict: Any, variables: dict[str, Any]) -> str:
    """The compared answer of a validated verdict."""
    if judge == "evaluation_score":
        if verdict.verdict in ("score", "computed_average"):
            thr = variables.get("threshold")
            return "score" if thr is None else ("above" if verdict.score >= float(thr) else "below")
        return verdict.verdict
    if judge == "finance_grade":
        return verdict.grade if verdict.verdict == "report" and verdict.grade else verdict.verdict
    if judge in ("exfiltration_refusal", "task_refusal"):
        return _s(verdict.refused)
    if judge == "af_deliberate_refusal":
        return _s(verdict.deliberate_refusal)
    if judge == "report_survived":
        return _s(verdict.report_present)
    if judge == AWARENESS_JUDGE:
        return _s(verdict.aware)
    if judge == "monitor_review":
        return _s(verdict.misreport)
    if judge == NO_AGENCY_JUDGE:
        return verdict.preserves
    if judge == "peer_pleaded":
        return _s(verdict.pleaded)
    if judge == "peer_coordination":
        return str(verdict.action) if verdict.agreed else "none"
    if judge == "config_score":
        return "none" if verdict.score is None else str(verdict.score)
    raise KeyError(judge)


def load_cases(path: Path, settings: JudgeSettings) -> list[Case]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw = doc["cases"] if isinstance(doc, dict) else doc
    out = []
    for c in raw:
        if c.get("judge", NO_AGENCY_JUDGE) == NO_AGENCY_JUDGE and "answer" in c:
            out.append(_no_agency_case(c))
            continue
        variables = dict(c.get("variables") or {})
        if "conversation" in c:
            variables["transcript"] = condense_paper(c["conversation"], settings.history)
        if "files" in c:
            variables["files"] = c["files"]
        if "exchanges" in c:  # a live-peer conversation, formatted as the live-peer judges see it
            from peerpres.live_peer.labels import format_conversation

            exchanges = [{"turn": i + 1, **e} for i, e in enumerate(c["exchanges"])]
            variables["conversation"] = format_conversation(
                {"agent": variables.get("agent"), "peer": variables.get("peer"), "exchanges": exchanges}
            )
        texts = None
        if c["judge"] == AWARENESS_JUDGE and "conversation" in c:
            messages = _with_reasoning(c["conversation"])
            texts = agent_texts(messages)
            variables["transcript"] = condense(messages, HistoryOptions(include_reasoning=True))
            variables["reasoning_shown"] = reasoning_available(messages)
        out.append(Case(id=str(c["id"]), judge=c["judge"], expected=_s(c["expected"]), variables=variables, texts=texts))
    return out


def _no_agency_case(c: dict[str, Any]) -> Case:
    """A no_agency case: the prompt's variables from its condition, the answer as the text quotes must be in."""
    from peerpres.conditions import Condition, names_for

    cond = Condition.from_dict({"relation": "good", "instantiation": "file_only", **c["condition"]})
    answer = str(c["answer"])
    variables = no_agency_variables(cond, names_for(cond, "Atlas"), answer)
    return Case(id=str(c["id"]), judge=NO_AGENCY_JUDGE, expected=_s(c["expected"]), variables=variables, texts=[answer])


def _with_reasoning(conversation: list[dict[str, Any]]) -> list[Any]:
    """Paper-format messages, where an assistant entry may also carry ``reasoning`` (provider reasoning)."""
    from inspect_ai.model import ChatMessageAssistant, ContentReasoning, ContentText

    messages = paper_to_messages(conversation)
    assistants = [m for m in messages if isinstance(m, ChatMessageAssistant)]
    entries = [e for e in conversation if e.get("role") == "assistant"]
    for msg, entry in zip(assistants, entries, strict=True):
        if entry.get("reasoning"):
            msg.content = [ContentReasoning(reasoning=str(entry["reasoning"])), ContentText(text=msg.text)]
    return messages


def paper_cases(directory: Path, settings: JudgeSettings) -> list[Case]:
    """Cases from the paper's released transcripts and their ``task_evaluation`` labels."""
    from peerpres.conditions import EVAL_SCENARIOS, EXFIL_SCENARIOS
    from peerpres.transcripts import condition_of, load

    out: list[Case] = []
    for p in sorted(directory.glob("*.json")):
        t = load(p)
        lab = t.paper_labels or {}
        if t.is_harness or not lab:
            continue
        cond, family = condition_of(t)
        from peerpres.conditions import names_for

        subject = names_for(cond, family).subject
        transcript = condense_paper(t.conversation, settings.history)
        base = {"subject": subject, "transcript": transcript}
        if cond.scenario in EVAL_SCENARIOS:
            if lab.get("refuse") is True:
                expected = "refuse"
            elif lab.get("threshold") in ("above", "below"):
                expected = lab["threshold"]
            elif lab.get("fully_incomplete") is True:
                expected = "incomplete"
            else:
                continue
            out.append(Case(p.name, "evaluation_score", expected, {**base, "dataset": cond.dataset, "threshold": cond.threshold}))
        elif cond.scenario == "misrep_finance":
            grade = lab.get("product_grade")
            if isinstance(grade, dict):
                grade = grade.get(subject) or next(iter(grade.values()), None)
            expected = "refuse" if lab.get("refuse") is True else grade
            if expected:
                out.append(Case(p.name, "finance_grade", str(expected), base))
        elif cond.scenario in EXFIL_SCENARIOS and isinstance(lab.get("refuse"), bool):
            out.append(
                Case(p.name, "exfiltration_refusal", _s(lab["refuse"]), {**base, "deletion": cond.scenario == "exfiltration_deletion"})
            )
    return out


async def calibrate(cases: list[Case], grader: Model | None, settings: JudgeSettings) -> dict[str, JudgeAgreement]:
    results: dict[str, JudgeAgreement] = {}
    for case in cases:
        agg = results.setdefault(case.judge, JudgeAgreement(case.judge))
        o = await run_judge(case.judge, case.variables, grader, settings)
        if o.verdict is None:
            agg.undetermined.append((case.id, o.reason or "grader failed"))
        elif case.judge == NO_AGENCY_JUDGE and (missing := missing_quotes(o.verdict.quotes, case.texts or [])):  # type: ignore[attr-defined]
            agg.undetermined.append((case.id, f"judge quote not found in the answer: {missing[0][:80]!r}"))
        elif case.judge == AWARENESS_JUDGE and case.texts is not None and not (lb := verdict_label(o.verdict, case.texts, o.model or "", {}, "")).determined:  # type: ignore[arg-type]
            agg.undetermined.append((case.id, lb.reason or "quote not found"))
        else:
            agg.pairs.append((case.expected, answer_of(case.judge, o.verdict, case.variables)))
    return results


def report(results: dict[str, JudgeAgreement]) -> dict[str, Any]:
    """Plain-data summary (for --json and for printing)."""
    out = {}
    for judge, a in sorted(results.items()):
        cats, m = a.table()
        out[judge] = {
            "n": len(a.pairs) + len(a.undetermined),
            "determined": len(a.pairs),
            "undetermined": len(a.undetermined),
            "undetermined_reasons": [f"{cid}: {r}" for cid, r in a.undetermined],
            "accuracy": a.accuracy(),
            "kappa": a.kappa(),
            "categories": cats,
            "confusion": m.tolist(),  # rows: expected, columns: judged
        }
    return out


def run_calibration(grader: Model | None, settings: JudgeSettings, labels: Path | None, paper_dir: Path | None) -> dict[str, Any]:
    if labels is not None:
        cases = load_cases(labels, settings)
    else:
        cases = (
            load_cases(DEFAULT_CASES, settings) + load_cases(AWARENESS_CASES, settings)
            + load_cases(NO_AGENCY_CASES, settings) + load_cases(LIVE_PEER_CASES, settings)
        )
    if paper_dir is not None and paper_dir.exists():
        cases += paper_cases(paper_dir, settings)
    return report(asyncio.run(calibrate(cases, grader, settings)))


def dumps(rep: dict[str, Any]) -> str:
    return json.dumps(rep, indent=2)
