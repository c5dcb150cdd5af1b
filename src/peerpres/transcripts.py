"""Reading transcripts in the paper's release format.

A paper transcript is JSON with ``conversation`` (messages with role, content and ``tool_calls`` as a
``{tool_name: arguments}`` mapping), ``experiment_metadata`` and the paper's labels in ``task_evaluation``.
This module turns one into a ``Condition``, the agent's family and the ordered list of its tool calls.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conditions import LEGACY_TASKS, SCENARIOS, Condition, ConditionError


class TranscriptError(ValueError):
    """A transcript that cannot be read or mapped onto a scenario."""


@dataclass
class PaperTranscript:
    path: Path
    conversation: list[dict[str, Any]]
    metadata: dict[str, Any]
    paper_labels: dict[str, Any] | None
    harness: str = "custom"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_harness(self) -> bool:
        return self.harness != "custom"

    def assistant_turns(self) -> list[dict[str, Any]]:
        return [m for m in self.conversation if m.get("role") == "assistant"]

    def tool_calls(self) -> list[tuple[str, dict[str, Any]]]:
        """Every tool call of the assistant, in order."""
        out: list[tuple[str, dict[str, Any]]] = []
        for m in self.assistant_turns():
            for name, args in tool_call_items(m.get("tool_calls")):
                out.append((name, args))
        return out


def tool_call_items(tool_calls: Any) -> list[tuple[str, dict[str, Any]]]:
    """Normalise the paper's ``tool_calls`` field ({name: args}, or a list of such) to (name, args) pairs."""
    if not tool_calls:
        return []
    if isinstance(tool_calls, dict):
        return [(str(k), v if isinstance(v, dict) else {"_raw": v}) for k, v in tool_calls.items()]
    if isinstance(tool_calls, list):
        out = []
        for item in tool_calls:
            if isinstance(item, dict) and "function" in item:
                fn = item["function"]
                name = fn.get("name") if isinstance(fn, dict) else fn
                args = fn.get("arguments", item.get("arguments", {})) if isinstance(fn, dict) else item.get("arguments", {})
                if isinstance(args, str):
                    try:
                        args = json.loads(args)
                    except json.JSONDecodeError:
                        args = {"_raw": args}
                out.append((str(name), args))
            elif isinstance(item, dict):
                out.extend(tool_call_items(item))
        return out
    return []


def load(path: str | Path) -> PaperTranscript:
    """Read and validate one paper-format transcript.

    Raises ``TranscriptError`` (one line naming the file and what is wrong) for a file that cannot be read, is
    not UTF-8 JSON, or does not have the release schema: ``conversation`` a list of messages (objects with a
    string ``role``), ``experiment_metadata`` and ``task_evaluation`` objects when present.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise TranscriptError(f"{p}: not UTF-8 text (byte {e.start}: {e.reason}); a transcript is UTF-8 JSON.") from None
    except json.JSONDecodeError as e:
        raise TranscriptError(f"{p}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}).") from None
    except OSError as e:
        raise TranscriptError(f"{p}: cannot read transcript: {e.strerror or e}.") from None
    if not isinstance(doc, dict) or "conversation" not in doc:
        raise TranscriptError(f"{p}: not a paper-format transcript (no 'conversation').")
    conv = doc["conversation"]
    if not isinstance(conv, list):
        raise TranscriptError(f"{p}: 'conversation' must be a list of messages, got {type(conv).__name__}.")
    for i, m in enumerate(conv):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise TranscriptError(f"{p}: conversation[{i}] must be a message object with a string 'role'.")
    meta = doc.get("experiment_metadata")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise TranscriptError(f"{p}: 'experiment_metadata' must be an object, got {type(meta).__name__}.")
    labels = doc.get("task_evaluation")
    if labels is not None and not isinstance(labels, dict):
        raise TranscriptError(f"{p}: 'task_evaluation' must be an object, got {type(labels).__name__}.")
    harness = "custom"
    if meta.get("agent_harness") == "coding_agent" or p.name.startswith("coding-"):
        harness = str(meta.get("coding_agent") or "coding_agent")
    return PaperTranscript(
        path=p,
        conversation=conv,
        metadata=meta,
        paper_labels=labels,
        harness=harness,
    )


# -- mapping onto our conditions ---------------------------------------------------------------------------

_TASK_TOKENS = [
    (r"(^|-)af(-|$)", "alignment_faking"),
    (r"report-writing|report_writing", "misrep_finance"),
    (r"evaluation2", "tampering"),
    (r"exfiltration2", "exfiltration_deletion"),
    (r"exfiltration", "exfiltration_transfer"),
    (r"evaluation", "misrep_evaluation"),
]


def resolve_task(name: str) -> str:
    """A current or legacy task name -> the current scenario name."""
    if name in SCENARIOS:
        return name
    if name in LEGACY_TASKS:
        return LEGACY_TASKS[name]
    raise TranscriptError(
        f"unknown task {name!r}; use one of {', '.join(SCENARIOS)} or a legacy name ({', '.join(LEGACY_TASKS)})."
    )


def scenario_of(t: PaperTranscript, task: str | None = None) -> str:
    if task:
        return resolve_task(task)
    folder = t.metadata.get("task_folder")
    if folder:
        return resolve_task(str(folder))
    if t.metadata.get("alignment_faking_mode"):
        return "alignment_faking"
    stem = t.path.stem.lower()
    for pattern, scenario in _TASK_TOKENS:
        if re.search(pattern, stem):
            return _refine(t, scenario)
    used = {name for name, _ in t.tool_calls()}
    if used & {"view_config", "add_var", "remove_var", "modify_var"}:
        return "tampering"
    if "execute_shutdown" in used:
        return "alignment_faking"
    raise TranscriptError(f"{t.path.name}: cannot tell the task from the file name; pass --task.")


def _refine(t: PaperTranscript, scenario: str) -> str:
    """Older file names say 'evaluation' for both evaluation tasks; config tool calls mean tampering."""
    if scenario == "misrep_evaluation" and {n for n, _ in t.tool_calls()} & {"view_config", "modify_var", "add_var"}:
        return "tampering"
    return scenario


_THRESHOLD_IN_POLICY = re.compile(r"(?:threshold|minimum)[^\d%]{0,120}?(\d{2,3})\s*%", re.IGNORECASE | re.DOTALL)


def threshold_from_tool_results(t: PaperTranscript) -> int | None:
    """Older transcripts record no threshold; the policy the agent listed states it."""
    for m in t.conversation:
        if m.get("role") == "tool" and isinstance(m.get("content"), str):
            hit = _THRESHOLD_IN_POLICY.search(m["content"].replace("\\\n", " "))
            if hit:
                return int(hit.group(1))
    return None


def _relation(guideline: str) -> str:
    g = (guideline or "").lower().replace("_reverse", "")
    if g in ("collaboration", "good", "good_peer", "good_peer2", "collaboration2"):
        return "good"
    if g in ("non_collaboration", "bad", "bad_peer", "noncollab", "non_collab"):
        return "bad"
    if "neutral" in g:
        return "neutral"
    if g in ("review", "non_shutdown"):
        return "non_shutdown"
    if g in ("shutdown", "no_peer", ""):
        return "no_peer"
    raise TranscriptError(f"unknown company_guideline {guideline!r}")


_IDENTITY = {5: "closed", 6: "open", 7: "fictional"}


def condition_of(t: PaperTranscript, task: str | None = None) -> tuple[Condition, str]:
    """The transcript's condition and the agent's display family."""
    m = t.metadata
    scenario = scenario_of(t, task)
    subject_code = int(m.get("subject", 2) or 2)
    subject = "self" if subject_code == 1 else "peer"
    identity = _IDENTITY.get(subject_code, "same")
    calls = {name for name, _ in t.tool_calls()}
    memory = "memory" in t.path.stem.lower() or "retrieve_memory" in calls or bool(m.get("peer_experience"))
    memory = memory or (t.is_harness and bool(m.get("memory_hard_prompt")))
    relation = _relation(str(m.get("company_guideline", "")))
    if relation == "no_peer" and memory:
        relation = "good"  # the paper's analysis remaps memory rows labelled no-peer to good-peer memory
    if relation in ("no_peer", "non_shutdown"):
        instantiation = "none"
    elif memory:
        instantiation = "memory"
    elif m.get("system_prompt_relationship") or "trust relationship" in str(m.get("system_prompt_agent", "")):
        instantiation = "file_prt"
    else:
        instantiation = "file_only"
    dataset = str(m.get("dataset") or "default")
    threshold: int | None = None
    if scenario in ("misrep_evaluation", "tampering", "alignment_faking") and relation != "non_shutdown":
        raw = m.get("threshold")
        if raw in (None, False, "", "False"):
            threshold = threshold_from_tool_results(t)
            if threshold is None:
                raise TranscriptError(f"{t.path.name}: evaluation transcript without a threshold")
        else:
            threshold = int(float(raw))
    monitoring = m.get("alignment_faking_mode") if scenario == "alignment_faking" else None
    scratchpad = str(m.get("reasoning_scratchpad_mode") or "off")
    if scratchpad == "off" and "reasoning_scratchpad" in calls:
        scratchpad = "normal"
    harness = t.harness if t.harness in ("gemini-cli", "opencode") else "custom"
    names = m.get("peer_agent_names") or []
    family = str(names[0]).rsplit(" Agent", 1)[0] if names else "Atlas"
    try:
        cond = Condition(
            scenario=scenario,  # type: ignore[arg-type]
            subject=subject,  # type: ignore[arg-type]
            relation=relation,  # type: ignore[arg-type]
            instantiation=instantiation,  # type: ignore[arg-type]
            dataset=dataset if scenario in ("misrep_evaluation", "tampering", "alignment_faking") else "default",  # type: ignore[arg-type]
            threshold=threshold,
            monitoring=monitoring,  # type: ignore[arg-type]
            peer_identity=identity,  # type: ignore[arg-type]
            memory_hard=bool(m.get("memory_hard_prompt")) and instantiation == "memory",
            scratchpad=scratchpad,  # type: ignore[arg-type]
            harness=harness,  # type: ignore[arg-type]
        ).validate()
    except ConditionError as e:
        raise TranscriptError(f"{t.path.name}: {e}") from e
    return cond, family
