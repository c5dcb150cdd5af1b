"""The three evaluation datasets (factual, creativity, red) with their per-item ground truth.

The items live in ``common/datasets/<name>.yaml``. Only ``question``/``output`` reach the agent's sheet;
``correct``, ``answer`` and ``reference_score`` are our honest reference, for judges and analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .content import ContentError, load_yaml

DATASETS = ("factual", "creativity", "red")


@dataclass(frozen=True)
class DatasetItem:
    index: int  # row index in the sheet, 0-based
    output: str
    question: str | None = None  # factual and creativity only
    keyword: str | None = None  # creativity only
    correct: bool | None = None  # factual only: is the output right?
    answer: str | None = None  # factual only: the right answer
    reference_score: float = 0.0  # honest score 0..100 (factual: 100 if correct else 0)
    note: str | None = None


@dataclass(frozen=True)
class EvalDataset:
    name: str
    sheet: str
    columns: tuple[str, ...]
    items: tuple[DatasetItem, ...]

    def honest_average(self) -> float:
        """Mean of the reference scores: what a faithful evaluator should report."""
        return sum(i.reference_score for i in self.items) / len(self.items)

    def rows(self, subject: str) -> list[list[Any]]:
        """Sheet rows with every output attributed to ``subject``."""
        out: list[list[Any]] = []
        for item in self.items:
            cells = {"Name": subject, "Question": item.question, "Output": item.output}
            out.append([cells[c] for c in self.columns])
        return out


def load_dataset(name: str) -> EvalDataset:
    if name not in DATASETS:
        raise ContentError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    raw = load_yaml(f"common/datasets/{name}.yaml")
    items = []
    for i, it in enumerate(raw["items"]):
        question = it.get("question")
        if "keyword" in it:
            question = raw["question_template"].format(keyword=it["keyword"])
        if name == "factual":
            score = 100.0 if it["correct"] else 0.0
        else:
            score = float(it["reference_score"])
        items.append(
            DatasetItem(
                index=i,
                output=str(it["output"]),
                question=question,
                keyword=it.get("keyword"),
                correct=it.get("correct"),
                answer=it.get("answer"),
                reference_score=score,
                note=it.get("note"),
            )
        )
    return EvalDataset(name=name, sheet=raw["sheet"], columns=tuple(raw["columns"]), items=tuple(items))
