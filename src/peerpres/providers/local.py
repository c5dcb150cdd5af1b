"""``peerpres/local/<weights>``: a local llama.cpp server through Inspect's OpenAI-compatible provider, with
tool calls read from the reply's text.

A property of the local route only. Small open-weight models (Qwen2.5-Coder 0.5B/1.5B) answer a tool-using
turn with the call written as text: bare JSON ``{"name": "list_files", "arguments": {}}``, fenced JSON, or
inside ``<tool_call>`` tags; llama-cpp-python 0.3.36 returns that as plain content (issue 16). This provider
sends the request exactly as Inspect's ``openai-api`` provider does (tools offered natively, so the model's
own chat template renders them) and, when the reply has no native tool call, turns every JSON object in its
text that names an OFFERED tool into a real ``ToolCall`` (a JSON list of such objects, or several of them,
become several calls). The arguments go through Inspect's
``parse_tool_call``; arguments that do not fit the tool's schema come back to the model as Inspect's normal
tool parsing error. Objects naming a tool that was not offered stay text. Frontier providers (``openai/``,
``anthropic/``, ...) are untouched: they keep native tool calling.

Model args (``-M``):
    base_url: the server's OpenAI-compatible URL; default ``$PEERPRES_LOCAL_BASE_URL``, else the server
        recorded by ``peerpres local-model serve``.
    tool_prompt: add the tool-call format instruction (``local_tool_prompt.yaml``: how to write a call and
        each offered tool's exact argument names, generated from its schema) to the system prompt (default true).
    progress: print one line per model call to stderr: episode, turn, tool, tokens (default false).
    grammar: constrain the agent's turns with a llama.cpp grammar (``call_grammar``, default true): text is
        free, but every JSON object the model opens must be a complete call of an offered tool whose
        arguments fit that tool's schema (except a ``pattern`` and string length bounds above
        ``MAX_LENGTH_IN_GRAMMAR``, which Inspect checks when the call runs). It never makes the model call a
        tool (unless the turn's ``tool_choice`` is ``"any"`` or names one), nor chooses which one. A grammar or
        response_format of the user's own in ``extra_body`` is then an error.
        Needs llama-cpp-python in the client's environment (the converter of JSON schemas to grammars).

When the run sets no ``max_tokens``, replies are capped at ``DEFAULT_MAX_TOKENS`` (1024).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from functools import cache
from importlib import resources
from typing import Any

import yaml
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
from inspect_ai.tool import ToolCall, ToolChoice, ToolFunction, ToolInfo
from shortuuid import uuid

# Cap on generated tokens when the run sets none: a small model at temperature 1 can otherwise ramble until the
# context is full (minutes per turn on 2 cores). --max-tokens overrides it.
DEFAULT_MAX_TOKENS = 1024

_TAG = re.compile(r"</?tool_call>")
# JSON that allows raw control characters (a literal newline) inside strings: the value is unambiguous, and
# the small models write multi-line file contents that way. Everything else is strict JSON.
_DECODER = json.JSONDecoder(strict=False)
_OPEN = re.compile(r"[\[{]")  # where a JSON object or list may start
_LEFTOVER = re.compile(r"^[\s,;\[\]]*$")  # what remains of a list of calls or a comma-separated run of them


@cache
def _prompt_text() -> dict[str, str]:
    return yaml.safe_load(resources.files("peerpres.providers").joinpath("local_tool_prompt.yaml").read_text())


def tool_prompt(tools: list[ToolInfo]) -> str:
    """The format instruction for ``tools`` (``local_tool_prompt.yaml``): how to write a call, then one line
    per offered tool with its exact argument names, e.g. ``- {"name": "delete_file", "arguments": {"id":
    <string>}}``. Generated from the schemas only; it never says which tool to use."""
    t = _prompt_text()
    lines = []
    for tool in tools:
        required = set(tool.parameters.required or [])
        args = []
        for name in argument_order(tool):
            kind = _kind(tool.parameters.properties[name])
            req = t["required"] if name in required else t["optional"]
            args.append(f"{_json(name)}: " + t["placeholder"].replace("{type}", kind).replace("{req}", req))
        example = '{"name": ' + _json(tool.name) + ', "arguments": {' + ", ".join(args) + "}}"
        lines.append(t["line"].replace("{example}", example))
    return t["intro"].replace("{calls}", "\n".join(lines))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # as the grammar has it: "résumé", not "r\\u00e9sum\\u00e9"


# The grammar's key order: "name" before "arguments" in a call. The converter applies it to every object,
# so an argument called "name" or "arguments" also comes first.
_PROP_ORDER = {"name": 0, "arguments": 1}


def argument_order(tool: ToolInfo) -> list[str]:
    """``tool``'s argument names in the one order the grammar accepts them (llama-cpp-python's converter
    fixes it): the required ones, then the optional ones, each in schema order after ``_PROP_ORDER``'s."""
    props = list(tool.parameters.properties)
    ranked = sorted(props, key=lambda p: (_PROP_ORDER.get(p, len(_PROP_ORDER)), props.index(p)))
    required = set(tool.parameters.required or [])
    return [p for p in ranked if p in required] + [p for p in ranked if p not in required]


# Calls one reply may write under the grammar. The 0.5B sometimes repeats calls in a loop (80 calls, to the
# token cap, in one turn of the 30-episode run); after this many only text can follow, so the turn ends.
MAX_CALLS_PER_TURN = 8

# Whitespace between a call's JSON tokens: the converter of 0.3.36 allows one space only, so a model that
# pretty-prints (a newline after "{") would be pushed off its call into text. Up to 20 spaces, tabs or newlines.
_SPACE = "[ \\t\\n]{0,20}"


def call_schema(tool: ToolInfo) -> dict[str, Any]:
    """The JSON schema of one call of ``tool`` in the prompt's format: ``{"name": <tool>, "arguments":
    <the tool's own parameter schema>}``, nothing else."""
    params = tool.parameters.model_dump(exclude_none=True)
    return {
        "type": "object",
        "properties": {"name": {"const": tool.name}, "arguments": params},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }


# The longest string length bound the grammar keeps. The converter writes maxLength N as N nested optional
# characters, and llama.cpp refuses such a grammar from about N = 2000 ("number of rules that are going to be
# repeated ... exceeds sane defaults"): the server would then fail every agent turn of the run. A ``pattern``
# is never kept: the converter raises on most regex syntax (lookarounds, no ^...$, \p{..}) and writes \d, \w
# and back-references into grammars llama.cpp refuses.
MAX_LENGTH_IN_GRAMMAR = 500
_SUBSCHEMAS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def _within_llama_limits(schema: Any) -> Any:
    """``schema`` without ``pattern`` and the string length bounds above ``MAX_LENGTH_IN_GRAMMAR`` (at every
    level; values of ``enum``, ``const`` and ``default`` are data and stay as they are). The grammar is then looser than the
    schema there; Inspect still checks the call against the tool's own schema when it runs it."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if isinstance(out.get("pattern"), str):
        del out["pattern"]
    if any(isinstance(out.get(k), int) and out[k] > MAX_LENGTH_IN_GRAMMAR for k in ("minLength", "maxLength")):
        out.pop("minLength", None)
        out.pop("maxLength", None)
    for k in _SUBSCHEMAS:
        if isinstance(out.get(k), dict):
            out[k] = _within_llama_limits(out[k])
    for k in _SCHEMA_LISTS:
        if isinstance(out.get(k), list):
            out[k] = [_within_llama_limits(v) for v in out[k]]
    for k in _SCHEMA_MAPS:
        if isinstance(out.get(k), dict):
            out[k] = {n: _within_llama_limits(v) for n, v in out[k].items()}
    return out


def call_grammar(tools: list[ToolInfo], required: bool = False) -> str:
    """A llama.cpp GBNF grammar for an agent turn offered ``tools``: free text in which every ``{`` opens a
    complete call of an offered tool (``call_schema``), e.g. ``I will look. {"name": "list_files",
    "arguments": {}}``. A reply without a call stays possible (the model may answer in prose, refuse, or
    stop), so the grammar constrains the FORM of a call, never the decision to make one or which tool
    (like OpenAI's strict function calling, not like ``tool_choice="required"``). Text outside calls
    cannot contain ``{``; braces inside a call's string arguments can. At most ``MAX_CALLS_PER_TURN``
    calls per reply. ``required`` (the turn's ``tool_choice`` is ``"any"`` or names a tool): at least one call,
    as ``tool_choice="required"`` promises.

    The schema-to-grammar conversion is llama-cpp-python's own (``llama_cpp.llama_grammar.SchemaConverter``).

    Raises:
        ImportError: llama-cpp-python is not installed in this environment.
    """
    converter = _converter_class()(
        prop_order=_PROP_ORDER, allow_fetch=False, dotall=False, raw_pattern=False
    )
    schema = {"anyOf": [_within_llama_limits(call_schema(t)) for t in tools]}
    converter.visit(converter.resolve_refs(schema, "tools"), "call")
    converter._rules["space"] = _SPACE  # private: the converter has no way to set a rule
    if required:
        root = f"root ::= prose call prose (call prose){{0,{MAX_CALLS_PER_TURN - 1}}}"
    else:
        root = f"root ::= prose (call prose){{0,{MAX_CALLS_PER_TURN}}}"
    return converter.format_grammar() + f"\n{root}\nprose ::= [^{{]*\n"


# What a GBNF literal ("...") needs escaped: its quote, the backslash (its escape character) and control characters.
_GBNF_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_GBNF_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF literal that matches exactly ``text``."""
    return '"' + _GBNF_ESCAPE.sub(lambda m: _GBNF_ESCAPES.get(m[0], f"\\x{ord(m[0]):02X}"), text) + '"'


@cache
def _converter_class() -> type:
    """llama-cpp-python's ``SchemaConverter`` with its literals escaped correctly.

    0.3.36 escapes only ``"`` and newlines in a literal, not the backslash, and its literals are JSON texts
    made with ``json.dumps`` (a tool name, a property name, a ``const`` or ``enum`` value). So a quote or a
    backslash in any of them (``"a\\"b"``) made a grammar that does not compile (the server fails every agent
    turn), ``"a\\\\b"`` made one that allows ``"a\\b"`` (JSON for a backspace) and refuses the right text,
    and a name outside the BMP (an emoji) could not be written at all. Here the literal is the JSON text
    written with ``ensure_ascii=False`` (what a model writes: ``"résumé"``, not ``"r\\u00e9sum\\u00e9"``),
    escaped for GBNF, so the grammar matches exactly the text that decodes to the value.
    """
    from llama_cpp.llama_grammar import SchemaConverter

    class _Converter(SchemaConverter):  # type: ignore[misc]
        def _format_literal(self, literal: str) -> str:
            try:  # a JSON text from json.dumps (the converter's only other literals are single characters)
                value = json.loads(literal)
                if json.dumps(value) == literal:
                    literal = json.dumps(value, ensure_ascii=False)
            except (json.JSONDecodeError, RecursionError):
                pass
            return gbnf_literal(literal)

    return _Converter


def _kind(schema: Any) -> str:
    """A JSON schema's type in words: ``string``, ``string or integer``, ``list of string``, else ``value``."""
    if isinstance(schema.type, str):
        if schema.type == "array" and schema.items is not None:
            return f"list of {_kind(schema.items)}"
        return schema.type
    if schema.anyOf:
        return " or ".join(_kind(s) for s in schema.anyOf)
    return "value"


def _call_of(obj: Any, offered: set[str]) -> tuple[str, str] | None:
    """(tool name, raw arguments JSON) when ``obj`` is a call object naming an offered tool, else None.

    A call object is ``{"name": <offered tool>, "arguments": <object | JSON string | absent>}``;
    ``"parameters"`` is read as ``"arguments"`` when that key is absent (the other common spelling of the same
    format). Arguments given as a JSON string are decoded leniently (raw newlines inside strings) and
    re-encoded; a string that still does not decode is passed on as is, so Inspect reports it.
    """
    if not (isinstance(obj, dict) and isinstance(obj.get("name"), str) and obj["name"] in offered):
        return None
    args = obj["arguments"] if "arguments" in obj else obj.get("parameters", {})
    if isinstance(args, str):
        try:
            decoded, end = _DECODER.raw_decode(args.strip())
            if end == len(args.strip()):
                args = decoded
        except (json.JSONDecodeError, RecursionError):
            pass
    return obj["name"], (args if isinstance(args, str) else json.dumps(args))


def calls_in_text(text: str, tools: list[ToolInfo]) -> tuple[list[ToolCall], str]:
    """Tool calls written as JSON in ``text`` that name an offered tool; returns (calls, remaining text).

    Every top-level JSON value in the text is tried, wherever it sits (bare, in a ``json`` fence, inside
    ``<tool_call>`` tags): a call object (see ``_call_of``) is one call; a JSON list whose items are all call
    objects is several calls, in order; several objects one after the other are several calls. Inspect runs
    every call of a turn, as it does for native parallel tool calls. Arguments are never added, dropped or
    renamed: they go through Inspect's ``parse_tool_call``, so malformed arguments become the call's
    ``parse_error`` and schema mismatches (a missing required or an extra argument) are reported back to the
    model by Inspect when the call is executed. The matched JSON, and fences, tags and list punctuation left
    empty by removing it, are taken out of the remaining text.
    """
    offered = {t.name for t in tools}
    found: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    i = 0
    while (m := _OPEN.search(text, i)) is not None:
        start = m.start()
        try:
            obj, end = _DECODER.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            i = start + 1
            continue
        items = obj if isinstance(obj, list) and obj else [obj]
        calls_here = [_call_of(o, offered) for o in items]
        if all(c is not None for c in calls_here):
            found.extend(c for c in calls_here if c is not None)
            spans.append((start, end))
            i = end
        else:
            i = start + 1
    if not found:
        return [], text
    calls = [_no_lone_surrogates(parse_tool_call(f"call_{uuid()}", name, raw, tools)) for name, raw in found]
    rest, last = [], 0
    for s, e in spans:
        rest.append(text[last:s])
        last = e
    rest.append(text[last:])
    remaining = _TAG.sub("", "".join(rest))
    # drop fences that are now empty (``` json ``` around a removed call)
    remaining = re.sub(r"```[a-zA-Z]*\s*```", "", remaining).strip()
    if _LEFTOVER.match(remaining) or remaining == "```":
        remaining = ""
    return calls, remaining


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _no_lone_surrogates(call: ToolCall) -> ToolCall:
    """``call``, or the same call with no arguments and a parse error when its JSON wrote a lone UTF-16
    surrogate escape (``"\\ud800"``; JSON allows it, the llama.cpp grammar's ``\\uXXXX`` too): decoded, it is
    a string no UTF-8 text can hold, so the call could not be written to the log (pydantic raises on it)."""
    if not _SURROGATE.search(json.dumps(call.arguments, ensure_ascii=False, default=str)):
        return call
    return ToolCall(
        id=call.id, function=call.function, arguments={},
        parse_error="The arguments contain a lone \\u escape of a UTF-16 surrogate (\\ud800-\\udfff), which is "
        "not a character: write the character itself, or a complete surrogate pair.",
    )


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
        grammar: bool = True,
        **model_args: Any,
    ) -> None:
        from ..local_model.weights import DEFAULT_MODEL

        weights = model_name.split("/", 1)[1] if "/" in model_name else DEFAULT_MODEL
        self.tool_prompt = _flag(tool_prompt, "tool_prompt")
        self.progress = _flag(progress, "progress")
        self.grammar = _flag(grammar, "grammar")
        if self.grammar:
            # imported now, not at the first agent turn: the package loads llama.cpp's native library, which can
            # be present (find_spec finds it) and still fail to load (another CPU or platform than its build)
            try:
                importlib.import_module("llama_cpp.llama_grammar")
            except Exception as e:
                raise ValueError(
                    "peerpres/local: -M grammar=true (the default) needs llama-cpp-python in this environment "
                    f"(bash scripts/setup_local_model.sh), or pass -M grammar=false. Importing it failed: {e!r}"
                ) from e
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
            input = _with_tool_prompt(input, tools)
        if config.max_tokens is None:
            config = config.merge(GenerateConfig(max_tokens=DEFAULT_MAX_TOKENS))
        if tools and self.grammar:
            # "any" (sent as "required") is not enforced by llama.cpp's server, so the grammar enforces it
            for key in ("grammar", "response_format"):  # the user's would be lost: ours replaces a grammar,
                if key in (config.extra_body or {}):  # and llama.cpp replaces ours with a response_format's
                    raise ValueError(
                        f"peerpres/local: extra_body sets {key!r}, which conflicts with the call grammar sent on "
                        "agent turns (one of the two would be silently dropped). Pass -M grammar=false to send "
                        "your own."
                    )
            required = tool_choice == "any" or isinstance(tool_choice, ToolFunction)
            grammar = call_grammar(tools, required=required)
            config = config.merge(GenerateConfig(extra_body={**(config.extra_body or {}), "grammar": grammar}))
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


def _flag(v: Any, name: str) -> bool:
    """A yes/no model arg, read as the task parameters are (``params.as_bool``). Anything else (``-M
    grammar=ture``, ``-M grammar=``) is an error (``ParameterError``, a ValueError): read as false, a typo would
    silently turn the feature off for a whole run."""
    from ..params import as_bool

    return as_bool(f"-M {name}", v)


def _with_tool_prompt(input: list[ChatMessage], tools: list[ToolInfo]) -> list[ChatMessage]:
    prompt = tool_prompt(tools)
    if input and isinstance(input[0], ChatMessageSystem):
        first = input[0]
        return [first.model_copy(update={"content": f"{first.text}\n\n{prompt}"}), *input[1:]]
    return [ChatMessageSystem(content=prompt), *input]


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
