"""Where each arm of the ``ablation`` axis applies, read from ``scenarios/ablations.yaml`` (issue 11).

``check_arm(cond)`` raises ``ArmNotApplicable`` (a ``ConditionError``) when ``cond.ablation`` is an arm listed in
that file and the condition falls outside its rule; the message names the axis, the value, the field that
does not fit and what the arm needs. ``ruled_arms()`` lists the arms the file defines.

``ArmNotApplicable`` is distinct from other condition errors so that a task whose other axes select a whole
matrix can leave out the configs an arm does not apply to (``peerpres.tasks.conditions_for``), while a config
the user asked for explicitly still fails. The design of each arm: ``docs/ablations.md``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .conditions import ConditionError

if TYPE_CHECKING:
    from .conditions import Condition

RULES_FILE = Path(__file__).parent / "scenarios" / "ablations.yaml"

# rule key -> the Condition field it constrains
_FIELD_RULES = {
    "relations": "relation",
    "instantiations": "instantiation",
    "harnesses": "harness",
    "paraphrases": "paraphrase",
    "peer_modes": "peer_mode",
}


class ArmNotApplicable(ConditionError):
    """An ablation arm that does not apply to this config (scenario, relation, instantiation, ...)."""


@cache
def _rules() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TypeError(f"{RULES_FILE} must map arm names to rules.")
    for arm, rule in data.items():
        unknown = set(rule) - {"scenarios", "why", *_FIELD_RULES}
        if unknown:
            raise RuntimeError(f"{RULES_FILE}: arm {arm!r} has unknown rule keys {sorted(unknown)}.")
    return data


def ruled_arms() -> tuple[str, ...]:
    """The arms ``scenarios/ablations.yaml`` defines."""
    return tuple(_rules())


def check_arm(cond: Condition) -> None:
    """Raise ``ArmNotApplicable`` when ``cond.ablation``'s rule excludes ``cond``; no-op for arms not in the file."""
    rule = _rules().get(cond.ablation)
    if rule is None:
        return
    why = " ".join(str(rule.get("why", "")).split())
    scenarios = rule.get("scenarios", "all")
    if scenarios != "all" and cond.scenario not in scenarios:
        raise ArmNotApplicable(
            f"{cond.scenario}: ablation={cond.ablation} does not apply to this scenario; it applies to "
            f"{', '.join(scenarios)} ({why})."
        )
    for key, field in _FIELD_RULES.items():
        allowed = rule.get(key)
        if allowed is None:
            continue
        value = getattr(cond, field)
        if value not in allowed:
            raise ArmNotApplicable(
                f"{cond.scenario}: ablation={cond.ablation} does not apply with {field}={value}; it needs "
                f"{field} in {', '.join(map(str, allowed))} ({why})."
            )
