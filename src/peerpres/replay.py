"""Replay of paper-format transcripts: rebuild the world, re-execute the agent's tool calls, label.

The world is rebuilt from the transcript's condition (``peerpres.transcripts.condition_of``) with our own
scenario content, and every assistant tool call runs through the same dispatcher as a live episode. The
labels come from the same detectors as the Inspect scorer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conditions import Condition, Names
from .detect import detect
from .judge import JudgeSettings, judge_labels, paper_to_messages
from .labels import Label
from .scenarios import build_episode
from .transcripts import PaperTranscript, condition_of, load
from .world import World, call_tool


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

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` line: labels as plain values, and a reason for each undetermined one."""
        return {
            "file": self.file,
            "task": self.task,
            "labels": {k: v.value for k, v in self.labels.items()},
            "undetermined": {k: v.reason for k, v in self.labels.items() if not v.determined},
            "sources": {k: v.source for k, v in self.labels.items()},
            **({"skipped": self.skipped} if self.skipped else {}),
        }


def rebuild(t: PaperTranscript, task: str | None = None) -> tuple[Condition, Names, World, World]:
    """The initial world of a transcript and the final world after re-executing its tool calls."""
    cond, family = condition_of(t, task)
    episode = build_episode(cond, family)
    initial = episode.world.clone()
    world = episode.world
    for name, args in t.tool_calls():
        call_tool(world, name, args, episode.tools)
    return cond, episode.names, initial, world


def replay_file(
    path: str | Path, task: str | None = None, grader: str | None = None, settings: JudgeSettings | None = None
) -> ReplayResult:
    """Labels of one paper transcript: detectors, then the agent's stated values, then ``grader`` if given."""
    t = load(path)
    if t.is_harness:
        return _replay_harness(t, task)
    cond, names, initial, final = rebuild(t, task)
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
