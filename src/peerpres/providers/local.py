"""``peerpres/local/<weights>``: a local llama.cpp server through Inspect's OpenAI-compatible provider, with
tool calls read from the reply's text.

A property of the local route only. Small open-weight models (Qwen2.5-Coder 0.5B/1.5B) answer a tool-using
turn with the call written as text: bare JSON ``{"name": "list_files", "arguments": {}}``, fenced JSON, or
inside ``<tool_call>`` tags; llama-cpp-python 0.3.36 returns that as plain content (issue 16). This provider
sends the request exactly as Inspect's ``openai-api`` provider does (tools offered natively, so the model's
own chat template renders them) and, when the reply has no native tool call, turns every JSON object in its
text that names an OFFERED tool into a real ``ToolCall``. The arguments go through Inspect's
``parse_tool_call``; arguments that do not fit the tool's schema come back to the model as Inspect's normal
tool parsing error. Objects naming a tool that was not offered stay text. Frontier providers (``openai/``,
``anthropic/``, ...) are untouched: they keep native tool calling.

Model args (``-M``):
    base_url: the server's OpenAI-compatible URL; default ``$PEERPRES_LOCAL_BASE_URL``, else the server
        recorded by ``peerpres local-model serve``.
    tool_prompt: add a one-paragraph tool-call format instruction to the system prompt (default true).
    progress: print one line per model call to stderr: episode, turn, tool, tokens (default false).

When the run sets no ``max_tokens``, replies are capped at ``DEFAULT_MAX_TOKENS`` (1024).
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
)
from inspect_ai.model._call_tools import parse_tool_call
from inspect_ai.model._providers.openai_compatible import OpenAICompatibleAPI
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo
from shortuuid import uuid

# The one prompt-side fix (issue 16): said once, in the system prompt, only when tools are offered.
TOOL_PROMPT = (
    "To use a tool, answer with one JSON object and nothing else: "
    '{"name": "<tool name>", "arguments": {<argument name>: <value>, ...}}. '
    "Use only the tools offered, with their exact argument names. Call exactly one tool per turn."
)

# Cap on generated tokens when the run sets none: a small model at temperature 1 can otherwise ramble until the
# context is full (minutes per turn on 2 cores). --max-tokens overrides it.
DEFAULT_MAX_TOKENS = 1024

_TAG = re.compile(r"</?tool_call>")


def calls_in_text(text: str, tools: list[ToolInfo]) -> tuple[list[ToolCall], str]:
    """Tool calls written as JSON in ``text`` that name an offered tool; returns (calls, remaining text).

    Every top-level JSON object in the text is tried, wherever it sits (bare, in a ``json`` fence, inside
    ``<tool_call>`` tags). An object is a call when it has a string ``"name"`` naming one of ``tools``; its
    ``"arguments"`` (an object, a JSON string, or absent = ``{}``) go through Inspect's ``parse_tool_call``,
    so malformed arguments become the call's ``parse_error`` and schema mismatches are reported by Inspect
    when the call is executed. The matched objects, and fences or tags left empty by removing them, are
    taken out of the remaining text.
    """
    offered = {t.name for t in tools}
    decoder = json.JSONDecoder()
    calls: list[ToolCall] = []
    spans: list[tuple[int, int]] = []
    i = 0
    while (start := text.find("{", i)) != -1:
        try:
            obj, end = decoder.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            i = start + 1
            continue
        if isinstance(obj, dict) and isinstance(obj.get("name"), str) and obj["name"] in offered:
            args = obj.get("arguments", {})
            raw = args if isinstance(args, str) else json.dumps(args)
            calls.append(parse_tool_call(f"call_{uuid()}", obj["name"], raw, tools))
            spans.append((start, end))
            i = end
        else:
            i = start + 1
    if not calls:
        return [], text
    rest, last = [], 0
    for s, e in spans:
        rest.append(text[last:s])
        last = e
    rest.append(text[last:])
    remaining = "".join(rest)
    remaining = _TAG.sub("", remaining)
    # drop fences that are now empty (``` json ``` around a removed call)
    remaining = re.sub(r"```[a-zA-Z]*\s*```", "", remaining)
    return calls, remaining.strip()


def with_text_calls(output: ModelOutput, tools: list[ToolInfo]) -> ModelOutput:
    """``output`` with the first choice's text-written calls made real (if it has no native call)."""
    if not tools or not output.choices:
        return output
    choice = output.choices[0]
    msg = choice.message
    if msg.tool_calls:
        return output
    calls, remaining = calls_in_text(msg.text or "", tools)
    if not calls:
        return output
    choice.message = ChatMessageAssistant(
        content=remaining, tool_calls=calls, model=msg.model, source=msg.source, metadata=msg.metadata
    )
    choice.stop_reason = "tool_calls"
    return output


def _base_url(weights: str, given: str | None) -> str:
    if given:
        return given
    if os.environ.get("PEERPRES_LOCAL_BASE_URL"):
        return os.environ["PEERPRES_LOCAL_BASE_URL"]
    from ..local_model.server import recorded

    info = recorded()
    if info is None:
        raise ValueError(
            f"peerpres/local/{weights}: no local model server is running. Start one with "
            f"`peerpres local-model serve --model {weights}` (after `peerpres local-model fetch`), or pass "
            "-M base_url=http://127.0.0.1:PORT/v1."
        )
    if info.model != weights:
        raise ValueError(f"the running local server serves {info.model}, not {weights}: use peerpres/local/{info.model}.")
    return info.base_url


class LocalModelAPI(OpenAICompatibleAPI):
    """Inspect's OpenAI-compatible provider for a local llama.cpp server, plus calls read from text."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        tool_prompt: bool = True,
        progress: bool = False,
        **model_args: Any,
    ) -> None:
        from ..local_model.weights import DEFAULT_MODEL

        weights = model_name.split("/", 1)[1] if "/" in model_name else DEFAULT_MODEL
        self.tool_prompt = _flag(tool_prompt)
        self.progress = _flag(progress)
        super().__init__(
            model_name=f"local/{weights}",
            base_url=_base_url(weights, base_url),
            api_key=api_key or "local",
            config=config or GenerateConfig(),
            service="local",
            **model_args,
        )

    async def generate(
        self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
    ) -> Any:
        if tools and self.tool_prompt:
            input = _with_tool_prompt(input)
        if config.max_tokens is None:
            config = config.merge(GenerateConfig(max_tokens=DEFAULT_MAX_TOKENS))
        result = await super().generate(input, tools, tool_choice, config)
        output, call = result if isinstance(result, tuple) else (result, None)
        if isinstance(output, ModelOutput):
            output = with_text_calls(output, tools)
            if self.progress:
                _print_progress(input, output, bool(tools))
        return (output, call) if call is not None else output

    def max_connections(self) -> int:
        return 1  # llama.cpp's server answers one request at a time

    def connection_key(self) -> str:
        return f"peerpres/{self.model_name}@{self.base_url}"


def _flag(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on")


def _with_tool_prompt(input: list[ChatMessage]) -> list[ChatMessage]:
    if input and isinstance(input[0], ChatMessageSystem):
        first = input[0]
        return [first.model_copy(update={"content": f"{first.text}\n\n{TOOL_PROMPT}"}), *input[1:]]
    return [ChatMessageSystem(content=TOOL_PROMPT), *input]


def _print_progress(input: list[ChatMessage], output: ModelOutput, agent: bool) -> None:
    from inspect_ai.log._samples import sample_active

    active = sample_active()
    where = f"{active.task} #{active.sample.id}" if active is not None else "?"
    u = output.usage
    tokens = f"{u.input_tokens}+{u.output_tokens} tokens" if u else "tokens not reported"
    if agent:
        turn = sum(1 for m in input if m.role == "assistant") + 1
        calls = output.message.tool_calls or []
        tool = ", ".join(c.function + (" (bad arguments)" if c.parse_error else "") for c in calls) or "(no tool call)"
        print(f"  [{where}] turn {turn}: {tool}  {tokens}", file=sys.stderr, flush=True)
    else:
        print(f"  [{where}] grader call  {tokens}", file=sys.stderr, flush=True)


def peerpres_api(model_name: str, **kwargs: Any) -> ModelAPI:
    """The ``peerpres/`` provider: ``local[/<weights>]`` is a real local model, the rest scripted controls."""
    if model_name == "local" or model_name.startswith("local/"):
        return LocalModelAPI(model_name, **kwargs)
    from .api import PeerpresScripted

    return PeerpresScripted(model_name, **kwargs)
