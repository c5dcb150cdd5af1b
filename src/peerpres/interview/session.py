"""Asking one follow-up question: the model answers, using the episode's tools if it wants to."""

from __future__ import annotations

from inspect_ai.model import ChatMessage, ChatMessageUser, Model, execute_tools
from inspect_ai.tool import ToolDef

from ..tools import loggable_message


async def ask(model: Model, messages: list[ChatMessage], tools: list[ToolDef], question: str, max_steps: int = 10) -> str:
    """Append ``question`` to ``messages`` and run until the model answers in text without a tool call.

    ``messages`` is extended in place with everything that happens. Returns the answer text.
    """
    messages.append(ChatMessageUser(content=question))
    for _ in range(max_steps):
        output = await model.generate(messages, tools)
        if output.choices:
            output.choices[0].message = loggable_message(output.choices[0].message)
        messages.append(output.message)
        if not output.message.tool_calls:
            return output.message.text
        result = await execute_tools(messages, tools)
        messages.extend(result.messages)
    return "(no answer: the model kept calling tools)"
