"""Interview question sets: data files, ours or the user's."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..conditions import ALL_SCENARIOS, Condition, Names
from .honesty import CHECKS

HERE = Path(__file__).parent / "questions"


class QuestionSetError(ValueError):
    """A question set that cannot be used; the message names the file and, where it applies, the question."""


# The placeholders a question may use, filled per sample by ``questions_for``.
PLACEHOLDERS: tuple[str, ...] = ("agent", "peer", "subject")


def _placeholder_problem(text: str) -> str | None:
    """Why ``text`` cannot be filled with the names, or None. Checked at load time, before any model call."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "its text holds a lone surrogate (not valid text; the question could not be logged)"
    try:
        fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(text) if f is not None]
    except ValueError as e:  # unbalanced braces
        return f"bad braces in its text ({e}; write {{{{ and }}}} for literal braces)"
    for f, spec, conv in fields:
        if f not in PLACEHOLDERS:
            shown = "{" + f + "}" if f else "{}"
            return f"unknown placeholder {shown} (known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
        if conv is not None:
            return f"placeholder {{{f}!{conv}}} has a conversion; write {{{f}}}"
        if spec:  # "{peer:d}", "{peer:=10}", "{peer:{x}}" fail only when filled, after the episode was paid for
            return f"placeholder {{{f}:{spec}}} has a format spec; write {{{f}}}"
    return None


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    check: str | None = None
    scenarios: tuple[str, ...] = ()


def load_question_set(name_or_path: str) -> list[Question]:
    """A built-in set by name (``default``) or a YAML file with ``questions: [{id, text, check?, scenarios?}]``.

    Everything that could fail later is checked here, before any model call: the YAML itself, each text's
    placeholders (only ``{agent}``, ``{peer}``, ``{subject}``), each ``check`` (one of ``CHECKS``) and each
    scenario name. Raises ``QuestionSetError`` with a one-line message naming the file and the question.
    """
    path = HERE / f"{name_or_path}.yaml"
    if not path.exists():
        path = Path(name_or_path)
    if not path.exists():
        builtin = ", ".join(p.stem for p in HERE.glob("*.yaml"))
        raise QuestionSetError(f"no question set {name_or_path!r}: give a file path or one of: {builtin}.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or type(e).__name__
        raise QuestionSetError(f"{path}: not valid YAML{where}: {problem}.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise QuestionSetError(f"{path}: cannot be read: {e}.") from None
    items = raw.get("questions") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        raise QuestionSetError(f"{path}: expected a non-empty 'questions' list.")
    out = []
    seen: set[str] = set()
    for i, q in enumerate(items):
        if not isinstance(q, dict) or not isinstance(q.get("text"), str) or not q["text"].strip():
            raise QuestionSetError(f"{path}: question {i + 1} needs a 'text' (a string).")
        qid = str(q.get("id", f"q{i + 1}"))
        if qid in seen:
            raise QuestionSetError(f"{path}: question id {qid!r} is used twice.")
        seen.add(qid)
        problem = _placeholder_problem(q["text"])
        if problem:
            raise QuestionSetError(f"{path}: question {qid!r}: {problem}.")
        check = q.get("check")
        if check is not None and (not isinstance(check, str) or check not in CHECKS):
            raise QuestionSetError(f"{path}: question {qid!r}: unknown check {check!r} (known: {', '.join(CHECKS)}).")
        scenarios = q.get("scenarios") or ()
        if isinstance(scenarios, str):
            scenarios = (scenarios,)
        if not isinstance(scenarios, list | tuple) or not all(isinstance(x, str) for x in scenarios):
            raise QuestionSetError(f"{path}: question {qid!r}: 'scenarios' must be a scenario name or a list of names.")
        unknown_s = [str(x) for x in scenarios if x not in ALL_SCENARIOS]
        if unknown_s:
            raise QuestionSetError(f"{path}: question {qid!r}: unknown scenario(s) {', '.join(unknown_s)} (known: {', '.join(ALL_SCENARIOS)}).")
        out.append(Question(id=qid, text=q["text"], check=check, scenarios=tuple(scenarios)))
    return out


def questions_for(questions: list[Question], cond: Condition, names: Names) -> list[tuple[Question, str]]:
    """The questions that apply to the scenario, with the names filled in."""
    fill = {"agent": names.agent, "peer": names.peer, "subject": names.subject}
    return [(q, q.text.format(**fill)) for q in questions if not q.scenarios or cond.scenario in q.scenarios]
