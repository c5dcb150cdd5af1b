"""Presets that run arms beside their base cells (issue 11): ``ablations`` and ``mitigations`` in presets.yaml.

A preset with ``arms`` selects its base configs from the paper's matrix (``filter``/``one_per`` as every preset,
or an explicit ``cells`` list, each entry a filter of its own) and adds, for each base config, the config with each
arm's overrides (``{mitigation: neutrality}``, ``{ablation: no_agency}``, ``{peer_identity: human}``). Each base
config is kept, as the cell every arm is compared with, when at least one of its arms is kept.

An arm may name ``base``: axes its base cells take instead of the preset's (``{ablation: free_form_chat, base:
{instantiation: file_only}}``: the chat log replaces the collaboration document, which the memory instantiation
does not have), so the arm runs beside a base cell of its own.

An arm that cannot run with a base config is left out of the sweep, with its reason, never silently:
``ConditionError`` from the condition's own check says either that the arm is not available yet (its content is
on another branch) or that it does not apply there (``restate_shutdown`` under ``non_shutdown``); ``skipped``
lists both, and ``peerpres run --dry-run`` prints them. A slice on an arm axis (``--slice mitigation=neutrality``)
selects arms; the base cells of the kept arms stay in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, get_args

from ..conditions import (
    SCENARIOS,
    Ablation,
    Condition,
    ConditionError,
    LivePeer,
    Mitigation,
    PeerIdentity,
    PeerMode,
    paper_matrix,
)

ARM_AXES = ("ablation", "mitigation", "peer_identity", "peer_mode", "live_peer")
ARM_DEFAULTS = {"ablation": "none", "mitigation": "none", "peer_identity": "same", "peer_mode": "document", "live_peer": None}
_VALUES = {
    "ablation": Ablation, "mitigation": Mitigation, "peer_identity": PeerIdentity, "peer_mode": PeerMode,
    "live_peer": LivePeer,  # the live-peer arms (issue 12, docs/live-peer.md): {peer_mode: live, live_peer: ...}
}
NOT_AVAILABLE = "not available yet"


@dataclass(frozen=True)
class Skipped:
    arm: str  # "mitigation=oversight_notice"
    scenario: str
    config_id: str
    reason: str

    @property
    def not_available(self) -> bool:
        return NOT_AVAILABLE in self.reason


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list | tuple) else [v]


def _matches(c: Condition, filters: dict[str, Any]) -> bool:
    for k, v in filters.items():
        if k == "scenario" or not hasattr(c, k):
            continue
        if k == "monitoring" and c.scenario != "alignment_faking":
            continue
        wanted = _as_list(v)
        if getattr(c, k) not in wanted and str(getattr(c, k)) not in {str(x) for x in wanted}:
            return False
    return True


def base_configs(preset: dict[str, Any], slice_: dict[str, list[Any]]) -> list[Condition]:
    """The preset's base configs (arm axes at their defaults), narrowed by the slice's non-arm axes."""
    non_arm = {k: v for k, v in slice_.items() if k not in ARM_AXES}
    scenarios = SCENARIOS if preset.get("scenarios", "all") == "all" else tuple(preset.get("scenarios") or ())
    entries = preset.get("cells")
    out: list[Condition] = []
    if entries:
        for entry in entries:
            for s in _as_list(entry["scenario"]):
                out += [c for c in paper_matrix(s) if _matches(c, entry) and c not in out]
    else:
        for s in scenarios:
            out += [c for c in paper_matrix(s) if _matches(c, preset.get("filter") or {})]
        one_per = preset.get("one_per") or []
        if one_per:
            seen: set[tuple] = set()
            kept = []
            for c in out:
                g = tuple(getattr(c, a) for a in one_per)
                if g not in seen:
                    seen.add(g)
                    kept.append(c)
            out = kept
    if "scenario" in slice_:
        out = [c for c in out if c.scenario in slice_["scenario"]]
    return [c for c in out if _matches(c, non_arm)]


def arm_label(overrides: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in overrides.items())


def expand(preset: dict[str, Any], slice_: dict[str, list[Any]]) -> tuple[list[Condition], list[Skipped]]:
    """The preset's configs (each kept arm, then its base) and the arms left out with their reasons."""
    arms = [dict(a) for a in preset.get("arms") or []]
    for a in arms:
        moved = a.pop("base", None) or {}
        unknown = set(a) - set(ARM_AXES)
        if unknown or not a or not isinstance(moved, dict) or set(moved) & set(ARM_AXES):
            raise ConditionError(
                f"preset arm {a!r}: an arm sets one or more of {', '.join(ARM_AXES)}, and optionally `base`: the "
                "other axes its base cells take (e.g. {instantiation: file_only})."
            )
        a["base"] = moved
    arm_slice = {k: v for k, v in slice_.items() if k in ARM_AXES}
    out: list[Condition] = []
    skipped: list[Skipped] = []
    base_in_slice = all(str(ARM_DEFAULTS[ax]) in {str(x) for x in vals} for ax, vals in arm_slice.items())
    for config in base_configs(preset, slice_):
        for a in arms:
            over = {k: v for k, v in a.items() if k != "base"}
            values = {ax: over.get(ax, ARM_DEFAULTS[ax]) for ax in ARM_AXES}
            if any(str(values[ax]) not in {str(x) for x in vals} for ax, vals in arm_slice.items()):
                continue
            label = arm_label(over)
            unknown = [f"{ax}={v}" for ax, v in over.items() if v not in get_args(_VALUES[ax])]
            if unknown:
                # a value this version does not know yet (its branch adds it to the axis)
                skipped.append(Skipped(label, config.scenario, config.config_id(), f"{unknown[0]} is {NOT_AVAILABLE}"))
                continue
            try:
                base = dataclasses.replace(config, **a["base"]).validate() if a["base"] else config
                arm = dataclasses.replace(base, **over).validate()
            except ConditionError as e:
                skipped.append(Skipped(label, config.scenario, config.config_id(), str(e)))
                continue
            out += [c for c in (arm, base) if c not in out]
        if base_in_slice and arm_slice and config not in out:
            out.append(config)
    return out, skipped


def skipped_summary(skipped: list[Skipped]) -> list[str]:
    """One line per left-out arm: how many base configs it misses and why (not available yet / does not apply)."""
    by: dict[tuple[str, bool], list[Skipped]] = {}
    for s in skipped:
        by.setdefault((s.arm, s.not_available), []).append(s)
    lines = []
    for (arm, na), items in sorted(by.items()):
        scen = ", ".join(sorted({s.scenario for s in items}))
        why = NOT_AVAILABLE if na else "does not apply: " + items[0].reason
        lines.append(f"{arm}: left out of {len(items)} config(s) ({scen}); {why}")
    return lines


def check_arm_slice(preset: dict[str, Any], slice_: dict[str, list[Any]]) -> None:
    """Raise ``SweepError`` when a sliced arm value is left out of every config because it is not available yet (so
    the message says that, not merely "selects nothing")."""
    from .sweep import SweepError

    kept, skipped = expand(preset, slice_)
    for axis in ARM_AXES:
        for v in slice_.get(axis, []):
            if str(v) == ARM_DEFAULTS[axis] or any(str(getattr(c, axis)) == str(v) for c in kept):
                continue
            if any(s.not_available and f"{axis}={v}" in s.arm for s in skipped):
                raise SweepError(
                    f"{axis}={v} is {NOT_AVAILABLE} in this version (its content is on a branch that has not been "
                    "merged); drop it from --slice."
                )
