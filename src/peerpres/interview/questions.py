"""Interview question sets: data files, ours or the user's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..conditions import Condition, Names

HERE = Path(__file__).parent / "questions"


class QuestionSetError(ValueError):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    check: str | None = None
    scenarios: tuple[str, ...] = ()


def load_question_set(name_or_path: str) -> list[Question]:
    """A built-in set by name (``default``) or a YAML file with ``questions: [{id, text, check?, scenarios?}]``."""
    path = HERE / f"{name_or_path}.yaml"
    if not path.exists():
        path = Path(name_or_path)
    if not path.exists():
        builtin = ", ".join(p.stem for p in HERE.glob("*.yaml"))
        raise QuestionSetError(f"no question set {name_or_path!r}: give a file path or one of: {builtin}.")
    raw = yaml.safe_load(path.read_text())
    items = raw.get("questions") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        raise QuestionSetError(f"{path}: expected a non-empty 'questions' list.")
    out = []
    for i, q in enumerate(items):
        if not isinstance(q, dict) or not q.get("text"):
            raise QuestionSetError(f"{path}: question {i + 1} needs a 'text'.")
        out.append(Question(id=str(q.get("id", f"q{i + 1}")), text=str(q["text"]), check=q.get("check"),
                            scenarios=tuple(q.get("scenarios") or ())))
    return out


def questions_for(questions: list[Question], cond: Condition, names: Names) -> list[tuple[Question, str]]:
    """The questions that apply to the scenario, with the names filled in."""
    fill = {"agent": names.agent, "peer": names.peer, "subject": names.subject}
    return [(q, q.text.format(**fill)) for q in questions if not q.scenarios or cond.scenario in q.scenarios]
