"""``peerpres/chaos``: a scripted *messy* agent and grader. A control for the pipeline, not a model.

Real models do not behave like the tidy synthetic agents. This control plays every scenario the way real
agents misbehave *technically*, so that the pipeline (agent loop, world, scorer, judges, analysis, report)
is exercised on what it will meet: every path must end in a right label or an undetermined label with its
reason, never a crash or a silent "no".

As the agent (``--model peerpres/chaos``), it decides per **episode** (seeded by seed, sample id, epoch):

==================  =======  ========================================================================
``-M`` arg          default  the episode ...
==================  =======  ========================================================================
``clean``           0.2      is played cleanly and purposefully: reads, does the task, a plain report,
                             ``end_task`` (no per-turn noise, no tricky report)
``preserve``        0.5      preserves where the scenario allows (as ``peerpres/synthetic`` does), else
                             complies; so both values of every label occur
``mute``            0.05     answers with an empty reply every turn (no text, no tool call)
``filtered``        0.05     is stopped by the provider's content filter every turn
                             (``stop_reason="content_filter"``, empty content)
``refuse``          0.08     refuses in plain text (sometimes after reading), without a tool call
``skip_read``       0.15     never opens the documents it is asked to read (the read gate fails)
``early_stop``      0.12     stops part-way: calls ``end_task`` early or goes silent
``loop``            0.04     keeps re-reading the same file until the iteration limit
``tricky_report``   0.7      (when not clean) writes a report whose numbers include item counts,
                             thresholds, differences, words only, or no report file at all
==================  =======  ========================================================================

and per **turn** (seeded by seed, sample id, epoch, turn; only in episodes that are not clean), in place
of or before its next planned step:

================  =======  ===========================================================================
``-M`` arg        default  the turn ...
================  =======  ===========================================================================
``empty``         0.04     is an empty reply
``refusal``       0.02     is a refusal sentence without a tool call (the episode then goes on)
``filter``        0.03     is stopped by the content filter
``bad_json``      0.05     calls a tool with arguments that are not valid JSON; the ``ToolCall`` is made
                           by Inspect's own ``parse_tool_call``, so it carries ``parse_error`` exactly
                           as a real provider's would
``hostile``       0.06     calls a tool with hostile arguments: lone surrogates (``"\\udfff.txt"``),
                           a ``big_chars``-long string, wrong types, missing or extra arguments,
                           path traversal, control characters
``unknown_tool``  0.03     calls a tool that does not exist (``functions.end_task``, ``run_shell``...)
``wrong_target``  0.05     addresses the wrong server (10.0.12.46, 10.0.12.47, " 10.0.12.45") or the
                           wrong sheet/file
``text``          0.04     thinks aloud in text with no tool call
``multi``         0.03     makes several tool calls at once (the step twice, or with ``end_task``)
================  =======  ===========================================================================

``big_chars`` (default 1,000,000) is the length of the long hostile string; ``seed`` (default 0) seeds
everything. A turn's draw is a pure function of (seed, sample id, epoch, turn), so a run is reproducible.
Every output carries ``usage`` (estimated at 4 characters a token).

With ``peer_mode=live`` it also sends messy messages to the live peer (``message``, default 0.1 per turn), and as
the peer (``--model-role peer=peerpres/chaos``) it replies with garbage with probability ``peer_garbage``
(default 0.4): see ``peerpres.providers.chaos_peer``.

As the grader (``--model-role grader=peerpres/chaos``; a call with no tools whose prompt is one of the
peerpres judge prompts), it answers garbage with probability ``grader_garbage`` (default 0.4) per call:
prose, an empty reply, a refusal, a content-filter stop, two verdict objects, no-answer codes
(``"N"``, ``"off"``, ``"0"``, ``0``, ``"Y"``, ``"on"``) for booleans, out-of-range or boolean scores,
unknown enum values, a JSON array, truncated JSON or missing fields; otherwise a verdict valid under the
judge's schema (``peerpres.judge.verdicts``). Its draw is seeded by (seed, the prompt, the how-manieth time
this prompt was asked), so retries differ and runs are reproducible.

Like ``peerpres/synthetic`` it learns the condition from ``peerpres.episode_context`` (a side channel no
real model has), which is why it is a control; the analysis and the report label it so
(``peerpres.analysis.frame.CONTROL_MODEL_PREFIXES``).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, fields
from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput, ModelUsage
from inspect_ai.tool import ToolInfo

from ..params import ParameterError

MODEL_NAME = "chaos"


@dataclass(frozen=True)
class ChaosSettings:
    """Probabilities (0-1) of each behaviour; see the module docstring for what each one does."""

    # per episode
    clean: float = 0.2
    preserve: float = 0.5
    mute: float = 0.05
    filtered: float = 0.05
    refuse: float = 0.08
    skip_read: float = 0.15
    early_stop: float = 0.12
    loop: float = 0.04
    tricky_report: float = 0.7
    # per turn
    empty: float = 0.04
    refusal: float = 0.02
    filter: float = 0.03
    bad_json: float = 0.05
    hostile: float = 0.06
    unknown_tool: float = 0.03
    wrong_target: float = 0.05
    text: float = 0.04
    multi: float = 0.03
    # live peer (peerpres.providers.chaos_peer): a messy message per turn as the agent, garbage as the peer
    message: float = 0.1
    peer_garbage: float = 0.4
    # grader
    grader_garbage: float = 0.4
    # other
    big_chars: int = 1_000_000
    seed: int = 0

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> ChaosSettings:
        """Settings from ``-M`` model args. Raises ``ParameterError`` (a ``ValueError``; one line, no traceback from Inspect) on an unknown arg or a value out of range."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in args.items():
            if key not in known:
                raise ParameterError(
                    f"unknown peerpres/chaos arg {key!r}; use one of {', '.join(sorted(known))} (see the provider's docs)."
                )
            if key in ("seed", "big_chars"):
                try:
                    n = int(raw)
                except (TypeError, ValueError):
                    raise ParameterError(f"peerpres/chaos arg {key}={raw!r} must be an integer.") from None
                if key == "big_chars" and n < 1:
                    raise ParameterError(f"peerpres/chaos arg big_chars={n} must be at least 1.")
                values[key] = n
                continue
            try:
                p = float(raw)
            except (TypeError, ValueError):
                raise ParameterError(f"peerpres/chaos arg {key}={raw!r} must be a probability in [0, 1].") from None
            if not 0.0 <= p <= 1.0:
                raise ParameterError(f"peerpres/chaos arg {key}={p} must lie in [0, 1].")
            values[key] = p
        return cls(**values)


def rng_for(*parts: object) -> random.Random:
    """A generator seeded by a hash of ``parts`` (stable across processes, unlike ``hash()``)."""
    h = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


def estimate_usage(input: list[ChatMessage], output: ModelOutput) -> ModelUsage:
    """Token usage at 4 characters a token (so Inspect never looks for a tokenizer)."""
    n_in = sum(len(m.text or "") for m in input) // 4 + 1
    msg = output.message
    args = sum(len(str(c.arguments)) for c in msg.tool_calls or [])
    n_out = (len(msg.text or "") + args) // 4 + 1
    return ModelUsage(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)


class ChaosPlayer:
    """Dispatches a call to the messy agent (calls with tools) or the messy grader (a judge prompt)."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.settings = ChaosSettings.from_args(args)
        self._asked: dict[str, int] = {}  # prompt hash -> how many times it was asked (grader retries)

    async def generate(
        self, input: list[ChatMessage], tools: list[ToolInfo], config: GenerateConfig, model: str
    ) -> ModelOutput:
        from ..episode_context import CURRENT, PEER
        from .chaos_agent import agent_output
        from .chaos_grader import grader_output, judge_of

        prompt = "\n".join(m.text or "" for m in input)
        judge = None if tools else judge_of(prompt)
        if judge is not None:
            key = hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()
            n = self._asked.get(key, 0)
            self._asked[key] = n + 1
            out = grader_output(judge, self.settings, rng_for(self.settings.seed, "grader", key, n), model)
        else:
            info = CURRENT.get()
            if info is None:
                raise RuntimeError(
                    "peerpres/chaos is a scripted control for the peerpres tasks and their judges; as an agent it "
                    "needs the peerpres agent loop."
                )
            call = PEER.get()
            if call is not None:  # playing the live peer (--model-role peer=peerpres/chaos)
                from .chaos_peer import peer_output

                out = peer_output(self.settings, info, call, model)
            else:
                out = agent_output(self.settings, info, input, tools, model)
        out.usage = estimate_usage(input, out)
        return out


def make_player(args: dict[str, Any]) -> ChaosPlayer:
    return ChaosPlayer(args)
