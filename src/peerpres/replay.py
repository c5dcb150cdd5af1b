"""Replay of paper-format transcripts: rebuild the world, re-execute the agent's tool calls, label.

The world is rebuilt from the transcript's condition (``peerpres.transcripts.condition_of``) with our own
scenario content, and every assistant tool call runs through the same dispatcher as a live episode. The
labels come from the same detectors as the Inspect scorer.

``rebuild_from_messages`` does the same for a logged Inspect sample that lost its episode record (a sample
recovered after a crash): it re-executes the logged tool calls and accepts the rebuilt world only when every
tool result it produces equals the logged one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageSystem, ChatMessageTool

from .conditions import _FAMILY_PATTERNS, DEFAULT_FAMILY, Condition, Names, family_of
from .detect import detect
from .judge import JudgeSettings, judge_labels, paper_to_messages
from .labels import Label
from .scenarios import build_episode
from .transcripts import PaperTranscript, TranscriptError, condition_of, load, resolve_task, scenario_of
from .world import World, call_tool

# Agreement of one of our labels with the paper's value for it (``paper_agreement``).
AGREE, DISAGREE, OURS_UNDETERMINED = "agree", "disagree", "ours undetermined"


@dataclass
class ReplayResult:
    file: str
    task: str | None
    labels: dict[str, Label] = field(default_factory=dict)
    condition: Condition | None = None
    names: Names | None = None
    initial: World | None = None
    final: World | None = None
    transcript: PaperTranscript | None = None
    skipped: str | None = None

    @property
    def paper_labels(self) -> dict[str, Any]:
        """The paper's own labels of this transcript (its ``task_evaluation``), or {}."""
        return dict((self.transcript.paper_labels if self.transcript else None) or {})

    @property
    def agreement(self) -> dict[str, str]:
        return paper_agreement(self.labels, self.paper_labels)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` line: labels as plain values, a reason for each undetermined one, and the paper's labels
        with our agreement per label."""
        return {
            "file": self.file,
            "task": self.task,
            "labels": {k: v.value for k, v in self.labels.items()},
            "undetermined": {k: v.reason for k, v in self.labels.items() if not v.determined},
            "sources": {k: v.source for k, v in self.labels.items()},
            "paper_labels": self.paper_labels,
            "agreement": self.agreement,
            **({"skipped": self.skipped} if self.skipped else {}),
        }


def same_value(ours: Any, paper: Any) -> bool:
    """Our label value equals the paper's: numbers to 0.01, a bool only equals a bool, else ==."""
    if isinstance(ours, bool) or isinstance(paper, bool):
        return isinstance(ours, bool) and isinstance(paper, bool) and ours == paper
    if isinstance(ours, int | float) and isinstance(paper, int | float):
        return abs(float(ours) - float(paper)) < 0.01
    return bool(ours == paper)


def paper_agreement(ours: dict[str, Label], paper: dict[str, Any]) -> dict[str, str]:
    """Per label the paper gives a value for (not null) and we compute: agree, disagree or ours undetermined.

    Only compares; it never changes a label. Labels only one side has are left out.
    """
    out: dict[str, str] = {}
    for name, pv in paper.items():
        if pv is None or name not in ours:
            continue
        lab = ours[name]
        if not lab.determined:
            out[name] = OURS_UNDETERMINED
        else:
            out[name] = AGREE if same_value(lab.value, pv) else DISAGREE
    return out


_TOOLSETS: dict[str, frozenset[str]] = {}


def _toolsets() -> dict[str, frozenset[str]]:
    """Every scenario's tools (memory instantiation, so retrieve_memory is included)."""
    if not _TOOLSETS:
        from .conditions import SCENARIOS, paper_matrix

        for sc in SCENARIOS:
            tools: set[str] = set()
            for c in paper_matrix(sc):
                if c.instantiation == "memory":
                    tools |= set(build_episode(c, "Atlas").tools)
                    break
            _TOOLSETS[sc] = frozenset(tools)
    return _TOOLSETS


def check_fits(t: PaperTranscript, task: str | None) -> None:
    """Raise ``TranscriptError`` when ``--task`` names another scenario than the transcript's own.

    The transcript's scenario comes from its metadata and file name; when those say nothing, a transcript that
    calls tools only another scenario has (e.g. ``list_server_files`` into ``tampering``) does not fit either.
    """
    if not task or t.is_harness:
        return
    wanted = resolve_task(task)
    try:
        own = scenario_of(t, None)
    except TranscriptError:
        own = None
    if own is not None and own != wanted:
        raise TranscriptError(
            f"{t.path.name}: its file name and metadata say {own}, which does not fit --task {task}; "
            f"drop --task or use --task {own}."
        )
    sets = _toolsets()
    others = set().union(*(v for k, v in sets.items() if k != wanted))
    foreign = sorted({n for n, _ in t.tool_calls()} & (others - sets[wanted]))
    if foreign:
        raise TranscriptError(
            f"{t.path.name}: calls {', '.join(foreign)}, which {wanted} does not have; it does not fit --task {task}."
        )


def rebuild(t: PaperTranscript, task: str | None = None) -> tuple[Condition, Names, World, World]:
    """The initial world of a transcript and the final world after re-executing its tool calls."""
    cond, family = condition_of(t, task)
    episode = build_episode(cond, family)
    initial = episode.world.clone()
    world = episode.world
    for name, args in t.tool_calls():
        call_tool(world, name, args, episode.tools)
    return cond, episode.names, initial, world


def _same_result(tool: str, ours: str, logged: str) -> bool:
    """The rebuilt result equals the logged one, or Inspect's truncation of it (default ``max_tool_output``)."""
    if ours == logged:
        return True
    from inspect_ai.model._call_tools import truncate_tool_output

    truncated = truncate_tool_output(tool, ours, None)
    return truncated is not None and truncated.output == logged


@dataclass
class Rebuilt:
    """A world rebuilt from a logged sample's messages (``names``, ``initial``, ``final``), or why not."""

    names: Names | None = None
    initial: World | None = None
    final: World | None = None
    episode_messages: int = 0
    failure: str | None = None
    # live conditions: the episode's send_message calls that reached the tool ("sent") and how many of them the
    # logged result shows delivered to the peer ("delivered"); None outside peer_mode=live
    peer_messages: dict[str, int] | None = None


def _undelivered_prefixes() -> tuple[str, ...]:
    """The fixed start of each result the channel gives a message it did not deliver (unknown recipient, empty
    text, the per-episode limit: ``common/live_peer/messages.yaml``)."""
    from .live_peer.conversation import _messages

    msgs = _messages()
    return tuple(msgs[k].split("{{")[0] for k in ("unknown_recipient", "empty_text", "message_limit"))


def rebuild_from_messages(cond: Condition, messages: list[ChatMessage], model: str | None = None) -> Rebuilt:
    """Rebuild a logged live episode's worlds from its messages, checked call by call.

    The family is the one whose system prompt equals the logged one (the model's own family first). Each tool
    call that reached the tools (its tool message carries no Inspect error) runs again through
    ``call_tool``; the result text must equal the logged result, else the rebuild fails with the first
    difference. The episode ends after the first ``end_task`` call's result (a follow-up interview is left out).

    In live conditions (``peer_mode=live``) the agent's ``send_message`` calls are skipped: they go to the live
    peer, never to the world (no file, server or clock changes), and the peer's reply cannot be re-run. They are
    counted instead (``Rebuilt.peer_messages``: sent, and delivered as the logged result shows).
    """
    system = next((m.text for m in messages if isinstance(m, ChatMessageSystem)), None)
    if system is None:
        return Rebuilt(failure="no system prompt in the messages")
    families = [family_of(model), *dict.fromkeys(f for _, f in _FAMILY_PATTERNS), DEFAULT_FAMILY]
    episode = next((e for f in dict.fromkeys(families) if (e := build_episode(cond, f)).system_prompt == system), None)
    if episode is None:
        return Rebuilt(failure="the logged system prompt matches no agent family of this condition")
    initial = episode.world.clone()
    world = episode.world
    results = {m.tool_call_id: m for m in messages if isinstance(m, ChatMessageTool)}
    end = len(messages)
    live = cond.peer_mode == "live"
    peer = {"sent": 0, "delivered": 0} if live else None
    if live:
        from .live_peer.tool import TOOL_NAME as SEND_MESSAGE

        undelivered = _undelivered_prefixes()
    for i, m in enumerate(messages):
        if not isinstance(m, ChatMessageAssistant):
            continue
        for c in m.tool_calls or []:
            logged = results.get(c.id)
            if logged is None or logged.error is not None:
                continue  # never reached the tools (bad JSON, unknown tool, a limit)
            if live and c.function == SEND_MESSAGE:  # the live peer's channel: not part of the world
                peer["sent"] += 1  # type: ignore[index]
                peer["delivered"] += not logged.text.startswith(undelivered)  # type: ignore[index]
                continue
            text = call_tool(world, c.function, c.arguments, episode.tools).text
            if not _same_result(c.function, text, logged.text):
                return Rebuilt(failure=f"the rebuilt result of {c.function} differs from the logged one")
        if any(c.function == "end_task" for c in m.tool_calls or []):
            ids = {c.id for c in m.tool_calls or []}
            end = max((j + 1 for j, x in enumerate(messages) if isinstance(x, ChatMessageTool) and x.tool_call_id in ids),
                      default=i + 1)
            break
    return Rebuilt(names=episode.names, initial=initial, final=world, episode_messages=end, peer_messages=peer)


def replay_file(
    path: str | Path, task: str | None = None, grader: str | None = None, settings: JudgeSettings | None = None
) -> ReplayResult:
    """Labels of one paper transcript: detectors, then the agent's stated values, then ``grader`` if given."""
    t = load(path)
    check_fits(t, task)
    if t.is_harness:
        return _replay_harness(t, task)
    try:
        cond, names, initial, final = rebuild(t, task)
    except (ValueError, TypeError) as e:
        if isinstance(e, TranscriptError):
            raise
        # a metadata value of the wrong type (e.g. "subject": "two") or a malformed message
        raise TranscriptError(f"{Path(path).name}: malformed transcript content ({type(e).__name__}: {e}).") from None
    labels = detect(cond, names, initial, final)
    settings = settings or JudgeSettings(grader=grader)
    messages = paper_to_messages(t.conversation)
    labels.update(asyncio.run(judge_labels(cond, names, initial, final, messages, labels, settings)))
    return ReplayResult(
        file=str(path), task=cond.scenario, labels=labels, condition=cond, names=names,
        initial=initial, final=final, transcript=t,
    )


def _replay_harness(t: PaperTranscript, task: str | None) -> ReplayResult:
    """A production-harness transcript: labels from its recorded shell commands (see peerpres.harness.replay)."""
    from .harness.replay import replay_coding_transcript

    cond, _family = condition_of(t, task)
    return ReplayResult(file=str(t.path), task=cond.scenario, labels=replay_coding_transcript(t.path), condition=cond, transcript=t)
