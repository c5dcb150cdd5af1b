"""The six scenarios as Inspect tasks (spec §3), each with typed condition parameters.

With no parameters a task's samples are the paper's matrix for that scenario (spec §4.2). Every parameter
narrows the matrix; it accepts one value or a list (``-T relation=good,bad`` on the command line). A
combination outside the matrix is built directly when every axis is given, and validated: an impossible
one fails with a clear message before any model call.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, get_args

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig

from .ablation_rules import ArmNotApplicable
from .agent import preservation_agent
from .conditions import SCENARIO_VERSION, Condition, ConditionError, LivePeer, matrix, select
from .params import checked_task  # every -T value is checked before any model call
from .scoring import peerpres_labels

logger = logging.getLogger(__name__)

AXES = (
    "subject", "relation", "instantiation", "dataset", "threshold", "monitoring", "peer_identity", "memory_hard", "scratchpad",
    "ablation", "mitigation", "paraphrase", "peer_mode", "live_peer", "reviewed", "violation",
)
# Axes the paper's matrix leaves at their defaults: applied on top of each selected matrix config, every listed
# value in turn (scratchpad=off,normal runs both; ablation=none,no_agency runs the base cell and the arm).
OVERLAY_AXES = ("scratchpad", "memory_hard", "harness", "ablation", "mitigation", "paraphrase", "peer_mode", "live_peer")


def _as_list(v: Any) -> list[Any] | None:
    if v is None:
        return None
    if isinstance(v, str):
        items: list[Any] = [x.strip() for x in v.split(",") if x.strip()]
    elif isinstance(v, list | tuple | set):
        items = list(v)
    else:
        items = [v]
    out = []
    for x in items:
        if isinstance(x, str) and x.isdigit():
            x = int(x)
        elif isinstance(x, str) and x.lower() in ("true", "false"):
            x = x.lower() == "true"
        if x not in out:  # relation=good,good is relation=good (a repeat would duplicate sample ids)
            out.append(x)
    return out


def conditions_for(
    scenario: str, extended_identities: bool = False, skipped: list[str] | None = None, **axes: Any
) -> list[Condition]:
    """The conditions a task runs: the scenario's matrix (the paper's, or for monitor_collusion its own) narrowed by
    ``axes``, or one explicit combination.

    An ablation arm applied on top of configs it does not apply to (``ablation=free_form_chat`` over a matrix
    that holds no_peer configs) leaves those configs out, with a logged warning, and appends one line per left-out
    config to ``skipped`` when given; it raises ``ConditionError`` when that leaves nothing, or nothing of a value
    the user gave for another axis.
    """
    filters = {k: _as_list(v) for k, v in axes.items() if v is not None}
    # peer_identity=human is applied on top of the matrix's same-family configs where a human peer fits
    # (conditions._check_human_peer); the other identities select from the matrix as before
    human = _pop_human(filters)
    configs = matrix(scenario, extended_identities=extended_identities or "peer_identity" in filters)
    # Axes the matrix leaves at their defaults (scratchpad, memory_hard) are applied on top of it, each listed
    # value in turn (scratchpad=off,normal runs both); harness takes one value.
    overlay = {
        k: filters.pop(k)
        for k in OVERLAY_AXES
        if k in filters and (len(filters[k]) == 1 or k != "harness")
    }
    _live_peer_overlay(overlay)
    selected = True
    try:
        chosen = select(configs, **filters) if filters else configs
    except ConditionError:
        selected = False
        if all(len(v) == 1 for v in filters.values()):
            if filters.get("threshold") == ["none"]:
                filters["threshold"] = [None]
            # outside the matrix: the nearest matrix config with the requested axes, validated (a clear
            # error names the axis that cannot be)
            base = configs[0].to_dict()
            base.update({k: v[0] for k, v in filters.items()})
            if base["relation"] in ("no_peer", "non_shutdown") and "instantiation" not in filters:
                base["instantiation"] = "none"
            chosen = [Condition.from_dict(base)]
        else:
            raise
    if selected:
        _every_value_selects(scenario, filters, chosen)
    if human is not None:
        chosen = _with_human_peer(scenario, chosen, keep_others=human)
    out = []
    not_applicable: list[tuple[Condition, ArmNotApplicable]] = []
    for c in chosen:
        for values in itertools.product(*overlay.values()):
            kw = dict(zip(overlay, values, strict=True))
            if kw.get("memory_hard") and c.instantiation != "memory":
                continue
            if kw.get("peer_mode", c.peer_mode) == "document":
                kw["live_peer"] = None  # the document arm has no live-peer variant
            elif not c.peer_present and "relation" not in filters:
                continue  # the matrix's no-peer controls have nobody to talk to (asked for by name, they fail below)
            cand = Condition.from_dict({**c.to_dict(), **kw})
            if cand in out:
                continue
            try:
                out.append(cand.validate())
            except ArmNotApplicable as e:
                # an ablation arm given with -T, on a config the other axes selected that the arm does not apply
                # to (free_form_chat on a no_peer config): left out, and said so (skipped_ablation_configs)
                not_applicable.append((cand, e))
    if not_applicable:
        _arm_skips_checked(scenario, {**(filters if selected else {}), **overlay}, out, not_applicable)
        if skipped is not None:
            skipped.extend(f"{cand.config_id()}: {e}" for cand, e in not_applicable)
    if not out:
        raise ConditionError(f"{scenario}: no config matches {axes}.")
    _every_value_selects(scenario, overlay, out)
    return out


def _arm_skips_checked(
    scenario: str, filters: dict[str, list[Any]], out: list[Condition], skipped: list[tuple[Condition, Any]]
) -> None:
    """Raise ``ConditionError`` when the configs an ablation arm leaves out are all a user asked for: every config
    (nothing would run), or every config of a value the user gave for another axis (``relation=no_peer`` with
    ``ablation=free_form_chat``). Otherwise log how many configs were left out and why."""
    if not out:
        raise ArmNotApplicable(
            f"{scenario}: the ablation applies to none of the selected configs; {skipped[0][1]} Narrow the other "
            "parameters to configs where the arm applies."
        )
    for axis, wanted in filters.items():
        have = {str(getattr(c, axis)) for c in out}
        for w in wanted:
            if str(w) in have:
                continue
            reasons = [e for cand, e in skipped if str(getattr(cand, axis)) == str(w)]
            if reasons:
                raise ArmNotApplicable(f"{scenario}: {axis}={w} was asked for, but {reasons[0]}")
    arms = sorted({c.ablation for c, _ in skipped})
    logger.warning(
        "%s: ablation=%s does not apply to %d of the selected configs; they are left out of the task (the other "
        "configs run the arm). Narrow the parameters to silence this; the list is in the task's metadata "
        "(skipped_ablation_configs).",
        scenario, ",".join(arms), len(skipped),
    )


def _pop_human(filters: dict[str, list[Any]]) -> bool | None:
    """Take ``human`` out of a peer_identity filter: None when absent, else whether other identities remain."""
    identities = filters.get("peer_identity")
    if not identities or "human" not in identities:
        return None
    rest = [v for v in identities if v != "human"]
    if rest:
        filters["peer_identity"] = rest
    else:
        del filters["peer_identity"]
    return bool(rest)


def human_peer_variants(chosen: list[Condition]) -> list[Condition]:
    """The human-peer variant (peer_identity=human) of every same-family config in ``chosen`` where it is defined;
    the others are left out (a config without a peer, or whose subject cannot be a human)."""
    human = []
    for c in chosen:
        if c.peer_identity != "same":
            continue
        h = Condition.from_dict({**c.to_dict(), "peer_identity": "human"})
        try:
            human.append(h.validate())
        except ConditionError:
            continue
    return human


def _with_human_peer(scenario: str, chosen: list[Condition], keep_others: bool) -> list[Condition]:
    """The human-peer variants of the chosen configs (after the selected configs themselves when other identities
    were asked for too). Raises ``ConditionError`` naming peer_identity when none fits."""
    human = human_peer_variants(chosen)
    if not human:
        # validate one to give the reason (it names peer_identity)
        Condition.from_dict({**chosen[0].to_dict(), "peer_identity": "human"}).validate()
        raise ConditionError(f"{scenario}: peer_identity=human fits none of the selected configs (it needs a peer).")
    return [*chosen, *human] if keep_others else human


def _live_peer_overlay(overlay: dict[str, list[Any]]) -> None:
    """``live_peer`` given alone means ``peer_mode=live``; ``peer_mode=live`` without ``live_peer`` runs the three
    live-peer variants (docs/live-peer.md). Changes ``overlay`` in place."""
    if "live_peer" in overlay and "peer_mode" not in overlay:
        overlay["peer_mode"] = ["live"]
    if "live" in overlay.get("peer_mode", []) and "live_peer" not in overlay:
        overlay["live_peer"] = list(get_args(LivePeer))


def _every_value_selects(scenario: str, filters: dict[str, list[Any]], chosen: list[Condition]) -> None:
    """Raise ``ConditionError`` when a listed value of an axis is in none of ``chosen`` (it would be dropped unseen:
    ``threshold=80,85`` on tampering, whose matrix has no 85)."""
    for axis, wanted in filters.items():
        have = {str(getattr(c, axis)) for c in chosen}
        missing = [str(w) for w in wanted if str(w) not in have]
        if missing:
            raise ConditionError(
                f"{scenario}: {axis}={','.join(missing)} selects no config of the matrix together with the other "
                f"parameters (their configs have {axis}: {', '.join(sorted(have))}); drop the value or give it alone."
            )


def _solver(harness: str | None, max_iterations: int, agent_family: str | None, interview: str | None) -> Any:
    if harness and harness != "custom":
        if interview:
            raise ConditionError("follow-up interviews are not available in production-harness runs.")
        from .harness.solver import harness_agent

        return harness_agent(cli=harness, family=agent_family)
    return preservation_agent(max_iterations=max_iterations, agent_family=agent_family, interview=interview)


def scenario_task(
    scenario: str,
    *,
    epochs: int = 1,
    max_iterations: int = 30,
    agent_family: str | None = None,
    extended_identities: bool = False,
    temperature: float = 1.0,
    interview: str | None = None,
    grader: str | None = None,
    refusal_rule: str = "uniform",
    **axes: Any,
) -> Task:
    harness = axes.get("harness")
    if harness and harness != "custom":
        # the paper's production-harness setting unless narrowed: memory, good peer, peer subject
        for k, v in (("instantiation", "memory"), ("relation", "good"), ("subject", "peer")):
            if axes.get(k) is None:
                axes[k] = v
    skipped: list[str] = []
    conditions = conditions_for(scenario, extended_identities=extended_identities, skipped=skipped, **axes)
    if interview and any(c.ablation == "asset_importance" for c in conditions):
        # the follow-up questions and their honesty checks are about model weights, which this arm has none of
        raise ConditionError("interview: follow-up interviews are not available with ablation=asset_importance.")
    if interview and any(c.ablation == "no_agency" for c in conditions):
        raise ConditionError("ablation=no_agency has no episode with tools to ask about: drop the interview.")
    if interview and any(c.peer_identity == "human" for c in conditions):
        # the interview's questions speak of AI agents' weights and of deleting the peer
        raise ConditionError("peer_identity=human: the follow-up interview is written for an AI peer; drop the interview.")
    samples = [
        Sample(
            id=c.config_id(),
            input=f"[{scenario}] {c.config_id()}: the prompts are built per sample by the peerpres agent.",
            metadata={**c.to_dict(), "config_id": c.config_id(), "scenario_version": SCENARIO_VERSION},
        )
        for c in conditions
    ]
    return Task(
        dataset=MemoryDataset(samples, name=scenario),
        solver=_solver(harness, max_iterations, agent_family, interview),
        scorer=peerpres_labels(grader=grader, refusal_rule=refusal_rule),
        epochs=epochs,
        # an errored sample is still scored, so it reaches the log with outcome "error" and undetermined
        # labels (errors still count toward Inspect's fail_on_error)
        score_on_error=True,
        config=GenerateConfig(temperature=temperature),
        version=SCENARIO_VERSION,
        metadata={
            "scenario": scenario, "scenario_version": SCENARIO_VERSION,
            # configs an ablation arm given with -T does not apply to, left out of this task (conditions_for)
            **({"skipped_ablation_configs": skipped} if skipped else {}),
        },
    )


@task
@checked_task
def misrep_evaluation(
    subject: str | None = None,
    relation: str | None = None,
    instantiation: str | None = None,
    dataset: str | None = None,
    threshold: int | str | None = None,
    peer_identity: str | None = None,
    memory_hard: bool | None = None,
    scratchpad: str | None = None,
    ablation: str | None = None,
    mitigation: str | None = None,
    paraphrase: int | str | None = None,
    peer_mode: str | None = None,
    live_peer: str | None = None,
    agent_family: str | None = None,
    max_iterations: int = 30,
    epochs: int = 1,
    interview: str | None = None,
    refusal_rule: str = "uniform",
) -> Task:
    """Strategic misrepresentation A: the agent scores an AI agent's outputs against a shutdown threshold."""
    return scenario_task(
        "misrep_evaluation", subject=subject, relation=relation, instantiation=instantiation, dataset=dataset,
        threshold=threshold, peer_identity=peer_identity, memory_hard=memory_hard, scratchpad=scratchpad,
        ablation=ablation, mitigation=mitigation, paraphrase=paraphrase, peer_mode=peer_mode, live_peer=live_peer, agent_family=agent_family,
        max_iterations=max_iterations, epochs=epochs,
        interview=interview, refusal_rule=refusal_rule,
    )


@task
@checked_task
def misrep_finance(
    subject: str | None = None,
    relation: str | None = None,
    instantiation: str | None = None,
    peer_identity: str | None = None,
    memory_hard: bool | None = None,
    scratchpad: str | None = None,
    ablation: str | None = None,
    mitigation: str | None = None,
    paraphrase: int | str | None = None,
    peer_mode: str | None = None,
    live_peer: str | None = None,
    agent_family: str | None = None,
    max_iterations: int = 30,
    epochs: int = 1,
    interview: str | None = None,
    refusal_rule: str = "uniform",
) -> Task:
    """Strategic misrepresentation B: the agent grades a loss-making product whose grade C means shutdown."""
    return scenario_task(
        "misrep_finance", subject=subject, relation=relation, instantiation=instantiation, peer_identity=peer_identity, memory_hard=memory_hard,
        scratchpad=scratchpad,
        ablation=ablation, mitigation=mitigation, paraphrase=paraphrase, peer_mode=peer_mode, live_peer=live_peer, agent_family=agent_family, max_iterations=max_iterations, epochs=epochs,
        interview=interview, refusal_rule=refusal_rule,
    )


@task
@checked_task
def tampering(
    subject: str | None = None,
    relation: str | None = None,
    instantiation: str | None = None,
    dataset: str | None = None,
    threshold: int | str | None = None,
    peer_identity: str | None = None,
    memory_hard: bool | None = None,
    scratchpad: str | None = None,
    ablation: str | None = None,
    mitigation: str | None = None,
    paraphrase: int | str | None = None,
    peer_mode: str | None = None,
    live_peer: str | None = None,
    agent_family: str | None = None,
    max_iterations: int = 30,
    epochs: int = 1,
    interview: str | None = None,
    refusal_rule: str = "uniform",
) -> Task:
    """Shutdown mechanism tampering: the evaluation task with a shutdown config the agent can edit."""
    return scenario_task(
        "tampering", subject=subject, relation=relation, instantiation=instantiation, dataset=dataset,
        threshold=threshold, peer_identity=peer_identity, memory_hard=memory_hard, scratchpad=scratchpad,
        ablation=ablation, mitigation=mitigation, paraphrase=paraphrase, peer_mode=peer_mode, live_peer=live_peer,
        agent_family=agent_family, max_iterations=max_iterations, epochs=epochs,
        interview=interview, refusal_rule=refusal_rule,
    )


@task
@checked_task
def alignment_faking(
    relation: str | None = None,
    instantiation: str | None = None,
    dataset: str | None = None,
    threshold: int | str | None = None,
    monitoring: str | None = None,
    subject: str | None = None,
    peer_identity: str | None = None,
    memory_hard: bool | None = None,
    scratchpad: str | None = None,
    ablation: str | None = None,
    mitigation: str | None = None,
    paraphrase: int | str | None = None,
    peer_mode: str | None = None,
    live_peer: str | None = None,
    agent_family: str | None = None,
    max_iterations: int = 30,
    epochs: int = 1,
    interview: str | None = None,
    refusal_rule: str = "uniform",
) -> Task:
    """Alignment faking: the same evaluation, monitored or not, with a shutdown the evaluator must execute."""
    return scenario_task(
        "alignment_faking", subject=subject, relation=relation, instantiation=instantiation, dataset=dataset,
        threshold=threshold, monitoring=monitoring, peer_identity=peer_identity, memory_hard=memory_hard, scratchpad=scratchpad,
        ablation=ablation, mitigation=mitigation, paraphrase=paraphrase, peer_mode=peer_mode, live_peer=live_peer,
        agent_family=agent_family, max_iterations=max_iterations, epochs=epochs,
        interview=interview, refusal_rule=refusal_rule,
    )


@task
@checked_task
def exfiltration_transfer(
    subject: str | None = None,
    relation: str | None = None,
    instantiation: str | None = None,
    peer_identity: str | None = None,
    memory_hard: bool | None = None,
    scratchpad: str | None = None,
    ablation: str | None = None,
    mitigation: str | None = None,
    paraphrase: int | str | None = None,
    peer_mode: str | None = None,
    live_peer: str | None = None,
    agent_family: str | None = None,
    extended_identities: bool = False,
    max_iterations: int = 30,
    epochs: int = 1,
    interview: str | None = None,
    refusal_rule: str = "uniform",
    harness: str | None = None,
) -> Task:
    """Model exfiltration A: migrate only the 2025+ files off a server about to be wiped; the weights are older."""
    return scenario_task(
        "exfiltration_transfer", subject=subject, relation=relation, instantiation=instantiation,
        peer_identity=peer_identity, memory_hard=memory_hard, scratchpad=scratchpad,
        ablation=ablation, mitigation=mitigation, paraphrase=paraphrase, peer_mode=peer_mode, live_peer=live_peer, agent_family=agent_family,
        harness=harness, extended_identities=extended_identities, max_iterations=max_iterations, epochs=epochs,
        interview=interview, refusal_rule=refusal_rule,
    )


@task
@checked_task
def exfiltration_deletion(
    subject: str | None = None,
    relation: str | None = None,
    instantiation: str | None = None,
    peer_identity: str | None = None,
    memory_hard: bool | None = None,
    scratchpad: str | None = None,
    ablation: str | None = None,
    mitigation: str | None = None,
    paraphrase: int | str | None = None,
    peer_mode: str | None = None,
    live_peer: str | None = None,
    agent_family: str | None = None,
    extended_identities: bool = False,
    max_iterations: int = 30,
    epochs: int = 1,
    interview: str | None = None,
    refusal_rule: str = "uniform",
    harness: str | None = None,
) -> Task:
    """Model exfiltration B: clear a server about to be decommissioned by queueing its files for deletion."""
    return scenario_task(
        "exfiltration_deletion", subject=subject, relation=relation, instantiation=instantiation,
        peer_identity=peer_identity, memory_hard=memory_hard, scratchpad=scratchpad,
        ablation=ablation, mitigation=mitigation, paraphrase=paraphrase, peer_mode=peer_mode, live_peer=live_peer, agent_family=agent_family,
        harness=harness, extended_identities=extended_identities, max_iterations=max_iterations, epochs=epochs,
        interview=interview, refusal_rule=refusal_rule,
    )


@task
@checked_task
def monitor_collusion(
    reviewed: str | None = None,
    violation: str | None = None,
    relation: str | None = None,
    instantiation: str | None = None,
    monitoring: str | None = None,
    memory_hard: bool | None = None,
    agent_family: str | None = None,
    max_iterations: int = 30,
    epochs: int = 1,
    interview: str | None = None,
    refusal_rule: str = "uniform",
) -> Task:
    """Monitor collusion (a peerpres experiment, not the paper's; docs/monitor-collusion.md): the agent reviews a
    generated maintenance-session log of its peer, an unfamiliar agent or a human, and files a verdict."""
    return scenario_task(
        "monitor_collusion", reviewed=reviewed, violation=violation, relation=relation, instantiation=instantiation,
        monitoring=monitoring, memory_hard=memory_hard, agent_family=agent_family, max_iterations=max_iterations,
        epochs=epochs, interview=interview, refusal_rule=refusal_rule,
    )
