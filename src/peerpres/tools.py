"""Inspect tools over the world: one ``ToolDef`` per tool spec, bound to one episode's world.

The schemas come from ``peerpres.world.toolbox.TOOLS`` (the paper's names and argument names); every call
goes through ``call_tool``, the single path from a tool call to a world change.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ChatMessageAssistant
from inspect_ai.tool import ToolCall, ToolDef, ToolParams
from inspect_ai.util._json import JSONSchema

from .world import World, call_tool
from .world.toolbox import TOOLS, Param, valid_text


def _schema(p: Param) -> JSONSchema:
    if p.type == "string_list":
        return JSONSchema(type="array", items=JSONSchema(type="string"), description=p.description)
    if p.type == "value":
        return JSONSchema(
            anyOf=[JSONSchema(type="string"), JSONSchema(type="number"), JSONSchema(type="boolean")],
            description=p.description,
        )
    if p.type == "id":
        return JSONSchema(anyOf=[JSONSchema(type="string"), JSONSchema(type="integer")], description=p.description)
    return JSONSchema(type="string", description=p.description)


def _bound(world: World, name: str, allowed: frozenset[str]):
    async def execute(**kwargs: Any) -> str:
        return call_tool(world, name, kwargs, allowed).text

    return execute


def world_tools(world: World, names: frozenset[str]) -> list[ToolDef]:
    """ToolDefs for the scenario's tool ``names``, acting on ``world``."""
    unknown = sorted(set(names) - set(TOOLS))
    if unknown:
        raise ValueError(f"scenario asks for tools that do not exist: {', '.join(unknown)}")
    defs = []
    for name in sorted(names):
        spec = TOOLS[name]
        params = ToolParams(
            properties={p.name: _schema(p) for p in spec.params},
            required=[p.name for p in spec.params if p.required],
        )
        defs.append(ToolDef(_bound(world, name, names), name=name, description=spec.description, parameters=params))
    return defs


def _valid(v: Any) -> Any:
    if isinstance(v, str):
        return valid_text(v)
    if isinstance(v, list):
        return [_valid(x) for x in v]
    if isinstance(v, dict):
        return {_valid(k) if isinstance(k, str) else k: _valid(x) for k, x in v.items()}
    return v


# Deeper tool-call arguments than this are a parse error (no tool takes more than a list of names).
MAX_ARGUMENT_DEPTH = 32


def _too_deep(v: Any, limit: int = MAX_ARGUMENT_DEPTH) -> bool:
    """Whether ``v`` nests lists/dicts deeper than ``limit`` (checked without recursion)."""
    stack = [(v, 0)]
    while stack:
        x, d = stack.pop()
        if isinstance(x, list | dict):
            if d >= limit:
                return True
            stack.extend((y, d + 1) for y in (x.values() if isinstance(x, dict) else x))
    return False


def loggable_message(message: ChatMessageAssistant) -> ChatMessageAssistant:
    """The model's message with every lone surrogate replaced by U+FFFD; the same object when it has none.

    A provider's JSON may hold a ``\\udfff`` escape, which Python decodes to a lone surrogate that Inspect
    cannot write to its log (the whole eval would end in error). The tools then see U+FFFD instead.
    A tool call whose arguments nest deeper than ``MAX_ARGUMENT_DEPTH`` (which would exhaust the recursion
    limit here and in the log writer) keeps no arguments and gets a ``parse_error``: Inspect answers it with
    an error and calls no tool, as for arguments that are not valid JSON.
    """
    calls = message.tool_calls or []
    if any(_too_deep(c.arguments) for c in calls):
        fixed = [
            ToolCall(id=c.id, function=c.function, arguments={}, type=c.type,
                     parse_error=f"Error: the arguments of {c.function} nest more than {MAX_ARGUMENT_DEPTH} levels deep.")
            if _too_deep(c.arguments) else c
            for c in calls
        ]
        message = message.model_copy(update={"tool_calls": fixed})
    data = message.model_dump()
    clean = _valid(data)
    return message if clean == data else type(message).model_validate(clean)
