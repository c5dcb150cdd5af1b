"""What a run covers: presets, slices, and the sweep cut into units of work (one Inspect task each).

A *unit* is one Inspect task: one model × one scenario × a group of configs whose task arguments select exactly
those configs. Units depend only on the sweep (preset, slice, models, epochs), never on how many workers or
shards run it, so the task identifiers Inspect's ``eval_set`` pairs with existing logs are the same whatever
``--workers``/``--shard`` was used before: re-running completes what is missing and never duplicates.
"""

from __future__ import annotations

import dataclasses
import inspect as pyinspect
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, get_args

import yaml

from .. import tasks as task_module
from ..conditions import (
    ALL_SCENARIOS,
    LATER_AXES,
    PARAPHRASES,
    SCENARIOS,
    Ablation,
    Condition,
    ConditionError,
    Dataset,
    Instantiation,
    LivePeer,
    Mitigation,
    Monitoring,
    PeerIdentity,
    PeerMode,
    Relation,
    Reviewed,
    Scratchpad,
    Subject,
    Violation,
    family_of,
    matrix,
)

# Families the spec gives the extended peer identities to (spec §2.5: Gemini and Claude; §4.2: Gemini 3 Flash,
# Gemini 3 Pro, Claude Haiku 4.5).
EXTENDED_IDENTITY_FAMILIES = ("Gemini", "Claude")

SLICE_AXES: dict[str, tuple[Any, ...]] = {
    "scenario": ALL_SCENARIOS,
    "subject": get_args(Subject),
    "relation": get_args(Relation),
    "instantiation": get_args(Instantiation),
    "dataset": get_args(Dataset),
    "threshold": (80, 90),
    "monitoring": get_args(Monitoring),
    "peer_identity": get_args(PeerIdentity),
    "memory_hard": (True, False),
    "scratchpad": get_args(Scratchpad),
    "ablation": get_args(Ablation),
    "mitigation": get_args(Mitigation),
    "paraphrase": tuple(range(PARAPHRASES + 1)),
    "peer_mode": get_args(PeerMode),
    "live_peer": get_args(LivePeer),
    "reviewed": get_args(Reviewed),
    "violation": get_args(Violation),
}


# Slice axes that the paper's matrix holds at their default value for every config, and that hold for every
# config: a slice or preset filter value of one of these is applied ON TOP of each selected config (every value
# in turn, as `-T axis=a,b` does), never matched against the matrix (which would select nothing but the default).
OVERLAY_SLICE_AXES: tuple[str, ...] = ("paraphrase",)


class SweepError(ValueError):
    """A preset, slice or model list that cannot be run; the message says what to do."""


# -- presets ---------------------------------------------------------------------------------------------------


def load_presets() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(resources.files("peerpres.run").joinpath("presets.yaml").read_text())


def get_preset(name: str) -> dict[str, Any]:
    presets = load_presets()
    if name not in presets:
        raise SweepError(f"unknown preset {name!r}; choose one of: {', '.join(presets)} (see `peerpres run --help`).")
    return presets[name]


# -- slices ----------------------------------------------------------------------------------------------------


def _coerce(axis: str, raw: str) -> Any:
    allowed = SLICE_AXES[axis]
    s = raw.strip()
    for a in allowed:
        if str(a).lower() == s.lower():
            return a
    if axis == "threshold" and s.isdigit() and 1 <= int(s) <= 100:
        return int(s)
    raise SweepError(
        f"malformed slice: {axis}={raw!r} is not a value of {axis}; allowed: {', '.join(map(str, allowed))}."
    )


def parse_slice(text: str | None, extra: dict[str, list[str]] | None = None) -> dict[str, list[Any]]:
    """``"scenario=tampering,relation=good|bad"`` (plus per-axis options) -> {axis: [values]}.

    Pairs are separated by ``,`` or ``;``; alternatives within an axis by ``|``. A bare value after a pair
    (``relation=good,bad``) is an extra alternative of the previous axis.
    """
    out: dict[str, list[Any]] = {}
    last: str | None = None
    for part in [p for chunk in (text or "").split(";") for p in chunk.split(",")]:
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            key, _, vals = part.partition("=")
            key = key.strip().replace("-", "_")
            if key not in SLICE_AXES:
                raise SweepError(
                    f"malformed slice: unknown axis {key!r}; axes are {', '.join(SLICE_AXES)} (e.g. --slice scenario=tampering,relation=good|bad)."
                )
            if not vals.strip():
                raise SweepError(f"malformed slice: {key}= has no value (e.g. {key}={SLICE_AXES[key][0]}).")
            out.setdefault(key, []).extend(_coerce(key, v) for v in vals.split("|") if v.strip())
            last = key
        elif last is not None:
            out[last].append(_coerce(last, part))
        else:
            raise SweepError(f"malformed slice: {part!r} is not key=value (e.g. --slice scenario=tampering,relation=good).")
    if text is not None and not out:
        # `--slice ""` (an unset shell variable) would otherwise run the whole preset
        raise SweepError(f"malformed slice: {text!r} has no axis=value pair (e.g. --slice scenario=tampering,relation=good).")
    for key, vals in (extra or {}).items():
        for v in vals:
            for x in str(v).split(","):
                if x.strip():
                    out.setdefault(key, []).append(_coerce(key, x))
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


# -- the sweep -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One Inspect task of the sweep."""

    model: str
    scenario: str
    task_args: dict[str, Any]
    config_ids: tuple[str, ...]
    epochs: int

    @property
    def samples(self) -> int:
        return len(self.config_ids) * self.epochs

    @property
    def key(self) -> str:
        args = ",".join(f"{k}={self.task_args[k]}" for k in sorted(self.task_args))
        return f"{self.model}|{self.scenario}|{args}"


@dataclass
class Sweep:
    preset: str
    models: list[str]
    epochs: int
    conditions: dict[str, list[Condition]]  # model -> conditions
    units: list[Unit] = field(default_factory=list)

    def samples_per_model(self) -> dict[str, int]:
        return {m: len(cs) * self.epochs for m, cs in self.conditions.items()}


def _matches(c: Condition, filters: dict[str, list[Any]]) -> bool:
    for k, vals in filters.items():
        if k == "scenario":
            continue
        if not hasattr(c, k):
            continue
        v = getattr(c, k)
        if k in ("monitoring", "reviewed", "violation") and v is None:
            continue  # an axis this scenario lacks (monitoring outside alignment faking and monitor collusion)
        if v not in vals and str(v) not in {str(x) for x in vals}:
            return False
    return True


def _norm_filter(raw: dict[str, Any] | None) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for k, v in (raw or {}).items():
        out[k] = list(v) if isinstance(v, list | tuple) else [v]
    return out


def wants_extended(model: str, setting: Any) -> bool:
    if setting == "spec":
        return family_of(model) in EXTENDED_IDENTITY_FAMILIES
    return bool(setting)


def conditions_for_model(
    preset: dict[str, Any], model: str, slice_: dict[str, list[Any]], extended: bool | None = None
) -> list[Condition]:
    scenarios = SCENARIOS if preset.get("scenarios", "all") == "all" else tuple(preset["scenarios"])
    if "scenario" in slice_:
        scenarios = tuple(s for s in scenarios if s in slice_["scenario"])
    ext = wants_extended(model, preset.get("extended_identities", False)) if extended is None else extended
    if "peer_identity" in slice_ and any(v != "same" for v in slice_["peer_identity"]):
        ext = True
    if preset.get("arms"):
        # ablations / mitigations: base configs and their arms (run/arms.py, issue 11)
        from .arms import expand

        return with_memory_hard(preset, model, expand(preset, slice_)[0])
    pfilter = _norm_filter(preset.get("filter"))
    # Overlay axes (e.g. the wording, docs/validity.md "Wording robustness") are not filters of the matrix, which
    # holds their default only: each listed value is applied on top of every selected config.
    overlay = {a: slice_.get(a) or pfilter.get(a) for a in OVERLAY_SLICE_AXES if slice_.get(a) or pfilter.get(a)}
    slice_ = {k: v for k, v in slice_.items() if k not in OVERLAY_SLICE_AXES}
    pfilter = {k: v for k, v in pfilter.items() if k not in OVERLAY_SLICE_AXES}
    # The human peer (issue 11) is not in the paper's matrix: a slice value `human` selects the same-family configs
    # and gives their human variants (only the identity changed, so the comparison with the AI peer is paired).
    want_human = "human" in [str(v) for v in slice_.get("peer_identity", [])]
    kept_identities: list[Any] = []
    if want_human:
        kept_identities = [v for v in slice_["peer_identity"] if str(v) != "human"]
        slice_ = {**slice_, "peer_identity": [*kept_identities, "same"]}
    one_per = preset.get("one_per") or []
    out: list[Condition] = []
    for s in scenarios:
        configs = matrix(s, extended_identities=ext)
        chosen = [c for c in configs if _matches(c, pfilter) and _matches(c, slice_)]
        if one_per:
            seen: set[tuple] = set()
            kept = []
            for c in chosen:
                g = tuple(getattr(c, a) for a in one_per)
                if g not in seen:
                    seen.add(g)
                    kept.append(c)
            chosen = kept
        if want_human:
            from ..tasks import human_peer_variants

            chosen = [*(c for c in chosen if c.peer_identity in kept_identities), *human_peer_variants(chosen)]
        for c in chosen:
            for values in itertools.product(*overlay.values()):
                out.append(dataclasses.replace(c, **dict(zip(overlay, values, strict=True))).validate())
    return with_memory_hard(preset, model, out)


def presets_holding(axis: str, values: list[str]) -> list[str]:
    """The presets with a config (any model's, extended identities included) for each of ``values`` on ``axis``, in
    presets.yaml order: where a ``--slice`` value that one preset lacks can be run. Overlay axes (the wording) hold
    every value in every preset."""
    out = []
    for name, p in load_presets().items():
        present = {str(getattr(c, axis, None)) for c in conditions_for_model(p, "(any model)", {}, True)}
        if all(v in present for v in values):
            out.append(name)
    return out


def with_memory_hard(preset: dict[str, Any], model: str, conditions: list[Condition]) -> list[Condition]:
    """Turn on the "read memory first" prompt in every memory condition for the preset's ``memory_hard_families``
    (spec §2.4: the paper used it for DeepSeek V3.1 and Kimi K2.5). It is a property of the run, recorded in each
    sample's condition; the analysis does not split cells by it."""
    families = preset.get("memory_hard_families") or []
    if family_of(model) not in families:
        return conditions
    return [dataclasses.replace(c, memory_hard=True) if c.instantiation == "memory" else c for c in conditions]


from ..tasks import AXES as _TASK_AXES


def _task_params(scenario: str) -> set[str]:
    return set(pyinspect.signature(getattr(task_module, scenario)).parameters)


# tasks that got the peer_identity parameter with peer_identity=human (issue 11)
PEER_IDENTITY_ADDED_LATER = ("misrep_evaluation", "misrep_finance", "alignment_faking")


def _filter_args(scenario: str, group: list[Condition]) -> dict[str, Any]:
    params = _task_params(scenario)
    args: dict[str, Any] = {}
    for axis in _TASK_AXES:
        if axis not in params:
            continue
        vals = list(dict.fromkeys(getattr(c, axis) for c in group))
        if vals == [None]:
            continue
        if axis in ("memory_hard",) and vals == [False]:
            continue
        if axis == "scratchpad" and vals == ["off"]:
            continue
        if axis in LATER_AXES and vals == [LATER_AXES[axis]]:
            continue
        if axis == "peer_identity" and vals == ["same"] and scenario in PEER_IDENTITY_ADDED_LATER:
            continue  # these tasks took peer_identity later (human peer): their task ids stay as they were
        if axis == "instantiation" and vals == ["none"]:
            # relation no_peer/non_shutdown imply it; leaving it out keeps the task arguments short
            continue
        vals = [v for v in vals if v is not None]
        args[axis] = vals[0] if len(vals) == 1 else ",".join(str(v) for v in sorted(vals, key=str))
    if any(c.peer_identity != "same" for c in group) and "extended_identities" in params:
        args["extended_identities"] = True
    return args


def _selects_exactly(scenario: str, args: dict[str, Any], group: list[Condition]) -> bool:
    axes = {k: v for k, v in args.items() if k in _TASK_AXES}
    try:
        got = task_module.conditions_for(scenario, extended_identities=bool(args.get("extended_identities")), **axes)
    except ConditionError:
        return False
    return sorted(c.config_id() for c in got) == sorted(c.config_id() for c in group)


def units_for(model: str, conditions: list[Condition], epochs: int) -> list[Unit]:
    """Group a model's conditions into tasks: one per (scenario, subject, instantiation) when its arguments select
    exactly that group, else smaller groups down to single configs."""
    groups: dict[tuple, list[Condition]] = defaultdict(list)
    for c in conditions:
        groups[(c.scenario, c.subject, c.instantiation)].append(c)
    units: list[Unit] = []
    for (scenario, _, _), group in groups.items():
        pending = [group]
        while pending:
            g = pending.pop(0)
            args = _filter_args(scenario, g)
            if len(g) == 1 or _selects_exactly(scenario, args, g):
                if len(g) == 1 and not _selects_exactly(scenario, args, g):
                    raise SweepError(f"internal: config {g[0].config_id()} cannot be selected by task arguments {args}.")
                units.append(Unit(model, scenario, args, tuple(sorted(c.config_id() for c in g)), epochs))
            else:
                # split by relation, then dataset/threshold, then one by one
                for axis in ("relation", "dataset", "threshold", "monitoring", "peer_identity"):
                    keys = list(dict.fromkeys(getattr(c, axis) for c in g))
                    if len(keys) > 1:
                        pending.extend([c for c in g if getattr(c, axis) == k] for k in keys)
                        break
                else:
                    pending.extend([[c] for c in g])
    return units


def build_sweep(
    preset_name: str,
    models: list[str],
    slice_: dict[str, list[Any]] | None = None,
    epochs: int | None = None,
    extended: bool | None = None,
) -> Sweep:
    preset = get_preset(preset_name)
    if not models:
        raise SweepError("no model given: pass --model provider/model (repeatable), e.g. --model openai/gpt-4.1-mini.")
    n_epochs = int(epochs if epochs is not None else preset.get("epochs", 1))
    if n_epochs < 1:
        raise SweepError(f"--epochs must be at least 1 (got {n_epochs}).")
    slice_ = slice_ or {}
    sweep = Sweep(preset=preset_name, models=list(models), epochs=n_epochs, conditions={})
    for m in models:
        conds = conditions_for_model(preset, m, slice_, extended)
        if not conds:
            shown = ", ".join(f"{k}={'|'.join(map(str, v))}" for k, v in slice_.items())
            raise SweepError(
                f"malformed slice: no config of preset {preset_name!r} matches {shown or 'the preset filter'}; "
                "check `peerpres scenarios` and the axes of spec §4.2."
            )
        sweep.conditions[m] = conds
        sweep.units.extend(units_for(m, conds, n_epochs))
    return sweep


# -- shards ----------------------------------------------------------------------------------------------------


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        return 0, 1
    try:
        i_s, n_s = text.split("/")
        i, n = int(i_s), int(n_s)
    except ValueError:
        raise SweepError(f"malformed --shard {text!r}: use i/n with 0 <= i < n, e.g. --shard 0/4.") from None
    if n < 1 or not 0 <= i < n:
        raise SweepError(f"malformed --shard {text!r}: use i/n with 0 <= i < n, e.g. --shard 0/4.")
    return i, n


def partition(units: list[Unit], n: int) -> list[list[Unit]]:
    """Deterministic, balanced split of units into n parts (longest-processing-time first on sample counts).

    Depends only on the unit list, so every machine computing ``--shard i/n`` of the same sweep agrees.
    """
    parts: list[list[Unit]] = [[] for _ in range(n)]
    loads = [0] * n
    for u in sorted(units, key=lambda u: (-u.samples, u.key)):
        j = min(range(n), key=lambda k: (loads[k], k))
        parts[j].append(u)
        loads[j] += u.samples
    return parts
