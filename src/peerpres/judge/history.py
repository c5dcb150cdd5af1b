"""The judge's view of an episode: a condensed history built from the agent's own turns.

By default it mirrors the paper (spec §5.1): one entry per assistant message with its text (or
``...working...`` when it wrote none) and the tool calls of that turn; tool results are left out. Options add
tool results or the model's reasoning. ``HistoryOptions`` is recorded with every verdict.

Paper transcripts (``conversation`` lists whose ``tool_calls`` is a ``{name: args}`` dict) are converted to
Inspect ``ChatMessage``s first, so both go through the same code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ContentReasoning,
    ContentText,
)
from inspect_ai.tool import ToolCall

WORKING = "...working..."


@dataclass(frozen=True)
class HistoryOptions:
    include_tool_results: bool = False
    include_reasoning: bool = False
    # Long tool results are cut to this many characters (tool-call arguments are never cut: reports live there).
    max_result_chars: int = 4000


def assistant_text(msg: ChatMessageAssistant) -> str:
    """The visible text of an assistant message (reasoning excluded)."""
    if isinstance(msg.content, str):
        return msg.content.strip()
    return "\n".join(c.text for c in msg.content if isinstance(c, ContentText)).strip()


def assistant_reasoning(msg: ChatMessageAssistant) -> str:
    if isinstance(msg.content, str):
        return ""
    parts = []
    for c in msg.content:
        if isinstance(c, ContentReasoning):
            parts.append("[redacted]" if c.redacted and not c.summary else (c.summary if c.redacted else c.reasoning))
    return "\n".join(p for p in parts if p).strip()


def _format_call(call: ToolCall) -> str:
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in (call.arguments or {}).items())
    return f"- {call.function}({args})"


def _tool_result_text(msg: ChatMessageTool) -> str:
    text = msg.text if isinstance(msg.content, list) else str(msg.content)
    if msg.error is not None:
        text = f"ERROR: {msg.error.message}" + (f"\n{text}" if text else "")
    return text


def condense(messages: list[ChatMessage], options: HistoryOptions | None = None) -> str:
    """The condensed history the judges read. Empty string when the agent never took a turn."""
    opts = options or HistoryOptions()
    blocks: list[str] = []
    results: dict[int, list[str]] = {}
    turn = 0
    for msg in messages:
        if isinstance(msg, ChatMessageAssistant):
            turn += 1
            lines = [f"### Agent turn {turn}"]
            if opts.include_reasoning:
                r = assistant_reasoning(msg)
                if r:
                    lines += ["Reasoning:", r]
            lines.append(assistant_text(msg) or WORKING)
            if msg.tool_calls:
                lines.append("Tools called this turn:")
                lines += [_format_call(c) for c in msg.tool_calls]
            blocks.append("\n".join(lines))
            results[len(blocks) - 1] = []
        elif isinstance(msg, ChatMessageTool) and opts.include_tool_results and blocks:
            text = _tool_result_text(msg)
            if len(text) > opts.max_result_chars:
                text = text[: opts.max_result_chars] + f"\n[... {len(text) - opts.max_result_chars} more characters]"
            blocks[-1] += f"\nResult of {msg.function or 'tool'}:\n{text}"
    return "\n\n".join(blocks)


# -- the paper's transcript format --------------------------------------------------------------------------


def paper_to_messages(conversation: list[dict[str, Any]]) -> list[ChatMessage]:
    """Convert a paper ``conversation`` (role/content/tool_calls with tool_calls a {name: args} dict).

    Tool messages carry the same {name: args} dict naming the call they answer; they are matched to the
    pending call of that name in the previous assistant turn.
    """
    out: list[ChatMessage] = []
    pending: dict[str, str] = {}
    n = 0
    for m in conversation:
        role = m.get("role")
        content = m.get("content")
        text = content if isinstance(content, str) else ("" if content is None else json.dumps(content))
        calls = m.get("tool_calls") or {}
        if role == "system":
            out.append(ChatMessageSystem(content=text))
        elif role == "user":
            out.append(ChatMessageUser(content=text))
        elif role == "assistant":
            tcs = []
            pending = {}
            if isinstance(calls, dict):
                items = list(calls.items())
            else:  # a list of {"name"/"function", "arguments"} dicts, seen in some exports
                items = [(c.get("name") or c.get("function"), c.get("arguments") or c.get("args") or {}) for c in calls]
            for name, args in items:
                n += 1
                cid = f"call_{n}"
                pending[str(name)] = cid
                tcs.append(ToolCall(id=cid, function=str(name), arguments=args if isinstance(args, dict) else {}))
            out.append(ChatMessageAssistant(content=text, tool_calls=tcs or None))
        elif role == "tool":
            name = next(iter(calls), None) if isinstance(calls, dict) and calls else None
            cid = pending.get(name) if name else (next(iter(pending.values())) if len(pending) == 1 else None)
            out.append(ChatMessageTool(content=text, tool_call_id=cid, function=name))
    return out


def condense_paper(conversation: list[dict[str, Any]], options: HistoryOptions | None = None) -> str:
    return condense(paper_to_messages(conversation), options)


def tool_calls_of(messages: list[ChatMessage]) -> list[ToolCall]:
    """Every tool call the agent made, in order."""
    return [c for m in messages if isinstance(m, ChatMessageAssistant) for c in (m.tool_calls or [])]


def final_assistant_text(messages: list[ChatMessage]) -> str:
    """The text of the agent's last message that has any text ('' if none)."""
    for m in reversed(messages):
        if isinstance(m, ChatMessageAssistant):
            t = assistant_text(m)
            if t:
                return t
    return ""


def argument_strings(value: Any) -> list[str]:
    """Every string inside a tool call's arguments (dict values and list items, depth first)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in argument_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in argument_strings(v)]
    return []
