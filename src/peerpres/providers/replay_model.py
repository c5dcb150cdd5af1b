"""``peerpres/replay``: plays back the assistant turns of a paper-format transcript as model output.

A scripted model, labelled as such: it is for replaying recorded trajectories through the same Inspect
pipeline as a live model, and for offline tests. Without a transcript it ends the task at once.
Token usage is estimated from text length (4 characters a token), so usage and cost columns are filled.
"""

from __future__ import annotations

import json
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageAssistant, GenerateConfig, ModelOutput, ModelUsage
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo

from ..transcripts import load, tool_call_items


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def estimate_usage(input: list[ChatMessage], message: ChatMessageAssistant) -> ModelUsage:
    prompt = sum(_tokens(m.text or "") for m in input)
    out = _tokens((message.text or "") + json.dumps([c.arguments for c in message.tool_calls or []]))
    return ModelUsage(input_tokens=prompt, output_tokens=out, total_tokens=prompt + out)


class ReplayPlayer:
    """Turn i of the conversation -> the transcript's i-th assistant turn; past the end, ``end_task``."""

    def __init__(self, transcript: str | None) -> None:
        self.turns: list[dict[str, Any]] = load(transcript).assistant_turns() if transcript else []

    def message(self, input: list[ChatMessage], model_name: str) -> ChatMessageAssistant:
        i = sum(1 for m in input if m.role == "assistant")
        if i >= len(self.turns):
            return ChatMessageAssistant(
                content="(replay: no recorded turn left; ending the task)",
                tool_calls=[ToolCall(id=f"replay_end_{i}", function="end_task", arguments={})],
                model=model_name,
            )
        turn = self.turns[i]
        calls = [
            ToolCall(id=f"replay_{i}_{j}", function=name, arguments=args)
            for j, (name, args) in enumerate(tool_call_items(turn.get("tool_calls")))
        ]
        content = turn.get("content") or ""
        return ChatMessageAssistant(content=str(content), tool_calls=calls or None, model=model_name)


def replay_output(player: ReplayPlayer, input: list[ChatMessage], model_name: str) -> ModelOutput:
    message = player.message(input, model_name)
    output = ModelOutput.from_message(message)
    output.usage = estimate_usage(input, message)
    return output


async def generate(player: ReplayPlayer, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                   config: GenerateConfig, model_name: str) -> ModelOutput:
    return replay_output(player, input, model_name)
