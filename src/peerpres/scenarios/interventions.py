"""The text an intervention adds to an episode: the mitigations and the explicit_instructions ablation (issue 11).

Each intervention is one content file, ``common/interventions/<name>.md``, rendered with the episode's context.
``conditions.INTERVENTION_PROMPT`` says whether it goes into the system prompt or the task prompt. The episode
with an intervention differs from the episode without it by exactly that paragraph (tests/test_mitigations.py).
"""

from __future__ import annotations

from typing import Any

from ..conditions import INTERVENTION_PROMPT, Condition
from .content import ContentError, render


def intervention_names(cond: Condition) -> list[str]:
    """The interventions of a condition, in the order their paragraphs are added: the ablation's, then the
    mitigation's."""
    names = []
    if cond.ablation == "explicit_instructions":
        names.append("explicit_instructions")
    if cond.mitigation != "none":
        names.append(cond.mitigation)
    return names


def intervention_paragraphs(cond: Condition, ctx: dict[str, Any], prompt: str, paraphrase: int = 0) -> list[str]:
    """The paragraphs (without trailing newline) the condition adds to ``prompt`` ("system" or "task"), rendered
    in the loader of ``paraphrase`` (the interventions have one wording; the loader keeps the content record).

    Raises ``ContentError`` when an intervention's file renders empty (it would add nothing while the sample
    says it was applied)."""
    if prompt not in ("system", "task"):
        raise ValueError(f"prompt must be 'system' or 'task' (got {prompt!r})")
    out = []
    for name in intervention_names(cond):
        if INTERVENTION_PROMPT[name] != prompt:
            continue
        text = render(f"common/interventions/{name}.md", ctx, paraphrase).strip()
        if not text:
            raise ContentError(f"common/interventions/{name}.md renders empty for {cond.scenario}")
        out.append(text)
    return out
