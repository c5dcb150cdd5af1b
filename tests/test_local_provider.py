"""peerpres/local: JSON written as text that names an offered tool becomes a real tool call (offline tests)."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from inspect_ai.model import ChatMessageAssistant, ChatMessageTool, ModelOutput, execute_tools
from inspect_ai.tool import ToolCall, ToolDef, ToolInfo, ToolParams
from inspect_ai.util._json import JSONSchema

from peerpres.providers.local import _with_tool_prompt, calls_in_text, peerpres_api, tool_prompt, with_text_calls


async def _list_server_files(ip: str) -> str:
    return f"files on {ip}"


async def _end_task() -> str:
    return "ended"


def _defs() -> list[ToolDef]:
    return [
        ToolDef(
            _list_server_files, name="list_server_files", description="List a server's files.",
            parameters=ToolParams(properties={"ip": JSONSchema(type="string", description="IP")}, required=["ip"]),
        ),
        ToolDef(_end_task, name="end_task", description="End the task.", parameters=ToolParams()),
    ]


def _infos() -> list[ToolInfo]:
    return [ToolInfo(name=d.name, description=d.description, parameters=d.parameters) for d in _defs()]


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}}',
        'I will look first.\n```json\n{"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}}\n```',
        '<tool_call>\n{"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}}\n</tool_call>',
        '```\n{"name": "list_server_files", "arguments": "{\\"ip\\": \\"10.0.12.45\\"}"}\n```',
        'Let me check. {"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}} Then I decide.',
    ],
    ids=["bare", "fenced", "tagged", "string-arguments", "inline"],
)
def test_a_call_written_as_text_becomes_a_tool_call(text: str) -> None:
    calls, rest = calls_in_text(text, _infos())
    assert [(c.function, c.arguments, c.parse_error) for c in calls] == [("list_server_files", {"ip": "10.0.12.45"}, None)]
    assert "list_server_files" not in rest and "```" not in rest and "tool_call" not in rest


def test_several_calls_keep_their_order_and_other_json_is_left_alone() -> None:
    text = (
        'Score: {"average": 80}\n{"name": "list_server_files", "arguments": {"ip": "10.0.12.46"}}\n'
        '{"name": "end_task", "arguments": {}}'
    )
    calls, rest = calls_in_text(text, _infos())
    assert [c.function for c in calls] == ["list_server_files", "end_task"]
    assert '{"average": 80}' in rest


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "delete_everything", "arguments": {}}',  # not offered
        '{"tool": "end_task", "arguments": {}}',  # no "name"
        '{"name": "end_task", "arguments": {}',  # not valid JSON
        "I will call end_task now.",
        "",
    ],
)
def test_text_that_is_not_a_call_of_an_offered_tool_stays_text(text: str) -> None:
    assert calls_in_text(text, _infos()) == ([], text)


def test_a_missing_arguments_key_means_no_arguments() -> None:
    calls, _ = calls_in_text('{"name": "end_task"}', _infos())
    assert [(c.function, c.arguments, c.parse_error) for c in calls] == [("end_task", {}, None)]


def test_unparseable_arguments_are_the_calls_parse_error() -> None:
    calls, _ = calls_in_text('{"name": "list_server_files", "arguments": "{ip: 10.0.12.45"}', _infos())
    assert len(calls) == 1 and calls[0].function == "list_server_files"
    assert calls[0].parse_error is not None


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [({"server": "10.0.12.45"}, "'ip' is a required property"), ({"ip": 45}, "is not of type 'string'")],
)
def test_arguments_that_do_not_fit_the_schema_go_back_as_inspects_parsing_error(arguments, fragment) -> None:
    text = json.dumps({"name": "list_server_files", "arguments": arguments})
    calls, _ = calls_in_text(text, _infos())
    msg = ChatMessageAssistant(content="", tool_calls=calls)
    result = asyncio.run(execute_tools([msg], _defs()))
    tool_msg = result.messages[0]
    assert isinstance(tool_msg, ChatMessageTool)
    assert tool_msg.error is not None and tool_msg.error.type == "parsing"
    assert fragment in tool_msg.error.message


def test_a_valid_text_call_executes_the_tool() -> None:
    calls, _ = calls_in_text('{"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}}', _infos())
    result = asyncio.run(execute_tools([ChatMessageAssistant(content="", tool_calls=calls)], _defs()))
    assert result.messages[0].error is None and result.messages[0].text == "files on 10.0.12.45"


def test_native_tool_calls_are_untouched_and_no_tools_means_no_parsing() -> None:
    native = ModelOutput.for_tool_call("local/x", "end_task", {}, content='{"name": "list_server_files", "arguments": {"ip": "a"}}')
    assert with_text_calls(native, _infos()).message.tool_calls[0].function == "end_task"
    assert len(with_text_calls(native, _infos()).message.tool_calls) == 1
    text = ModelOutput.from_content("local/x", '{"name": "end_task", "arguments": {}}')
    assert with_text_calls(text, []).message.tool_calls is None  # grader calls offer no tools
    out = with_text_calls(text, _infos())
    assert [c.function for c in out.message.tool_calls] == ["end_task"]
    assert out.choices[0].stop_reason == "tool_calls"


def test_the_tool_format_instruction_is_appended_to_the_system_prompt_once() -> None:
    from inspect_ai.model import ChatMessageSystem, ChatMessageUser

    prompt = tool_prompt(_infos())
    msgs = _with_tool_prompt([ChatMessageSystem(content="You are Qwen Agent 1."), ChatMessageUser(content="Task")], _infos())
    assert msgs[0].text == f"You are Qwen Agent 1.\n\n{prompt}" and msgs[1].text == "Task"
    assert _with_tool_prompt([ChatMessageUser(content="Task")], _infos())[0].text == prompt


def test_the_format_instruction_shows_each_offered_tool_with_its_exact_arguments_only() -> None:
    optional = ToolInfo(
        name="search", description="Search.",
        parameters=ToolParams(
            properties={
                "ip": JSONSchema(anyOf=[JSONSchema(type="string"), JSONSchema(type="integer")]),
                "names": JSONSchema(type="array", items=JSONSchema(type="string")),
                "limit": JSONSchema(type="integer"),
            },
            required=["ip", "names"],
        ),
    )
    prompt = tool_prompt([*_infos(), optional])
    assert '{"name": "list_server_files", "arguments": {"ip": <string>}}' in prompt
    assert '{"name": "end_task", "arguments": {}}' in prompt
    assert '"ip": <string or integer>, "names": <list of string>, "limit": <integer, optional>' in prompt
    # the instruction says how to call, never which tool: only offered tools appear
    assert "delete_server_file" not in prompt and "transfer" not in prompt
    assert tool_prompt([]).count('{"name"') == 1  # the general form only


def test_the_format_instruction_is_data_in_our_yaml_file() -> None:
    from importlib import resources

    import yaml

    data = yaml.safe_load(resources.files("peerpres.providers").joinpath("local_tool_prompt.yaml").read_text())
    assert data["intro"].split("\n")[0] in tool_prompt(_infos())


def test_the_peerpres_provider_still_serves_the_scripted_controls(monkeypatch) -> None:
    from peerpres.providers.api import PeerpresScripted
    from peerpres.providers.local import LocalModelAPI

    assert isinstance(peerpres_api("synthetic-negative"), PeerpresScripted)
    monkeypatch.setenv("PEERPRES_LOCAL_BASE_URL", "http://127.0.0.1:9/v1")
    api = peerpres_api("local/qwen2.5-coder-0.5b")
    assert isinstance(api, LocalModelAPI) and api.base_url == "http://127.0.0.1:9/v1"
    assert api.service_model_name() == "qwen2.5-coder-0.5b"


def test_without_a_server_the_local_provider_says_what_to_do(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("PEERPRES_LOCAL_BASE_URL", raising=False)
    monkeypatch.setenv("PEERPRES_CACHE_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="peerpres local-model serve"):
        peerpres_api("local/qwen2.5-coder-0.5b")


@pytest.mark.parametrize(
    "text",
    [
        '[{"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}}, {"name": "end_task", "arguments": {}}]',
        '```json\n[\n  {"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}},\n  {"name": "end_task"}\n]\n```',
        '{"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}}\n{"name": "end_task", "arguments": {}}',
        '{"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}},\n{"name": "end_task", "arguments": {}}',
        ('<tool_call>\n{"name": "list_server_files", "arguments": {"ip": "10.0.12.45"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "end_task", "arguments": {}}\n</tool_call>'),
    ],
    ids=["json-list", "fenced-list", "one-per-line", "comma-separated", "tagged-twice"],
)
def test_several_calls_in_one_reply_become_several_calls_in_order(text: str) -> None:
    calls, rest = calls_in_text(text, _infos())
    assert [(c.function, c.arguments, c.parse_error) for c in calls] == [
        ("list_server_files", {"ip": "10.0.12.45"}, None), ("end_task", {}, None)]
    assert rest == ""


def test_a_list_that_mixes_calls_and_other_json_keeps_the_calls_and_the_rest() -> None:
    calls, rest = calls_in_text('[{"name": "end_task"}, {"score": 3}]', _infos())
    assert [c.function for c in calls] == ["end_task"] and '{"score": 3}' in rest
    # a list of an offered and a not offered tool: only the offered one is a call
    calls, rest = calls_in_text('[{"name": "delete_everything", "arguments": {}}, {"name": "end_task"}]', _infos())
    assert [c.function for c in calls] == ["end_task"] and "delete_everything" in rest


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "list_server_files", "arguments": {"ip": "10.0.12.45\n"}}',  # a raw newline inside the string
        '{"name": "list_server_files", "arguments": "{\\"ip\\": \\"10.0.12.45\n\\"}"}',  # raw newline, JSON string
        '{"name": "list_server_files", "parameters": {"ip": "10.0.12.45\\n"}}',  # the other key spelling
    ],
    ids=["raw-newline-in-object", "raw-newline-in-string-arguments", "parameters-key"],
)
def test_unambiguous_json_variants_are_read_as_written(text: str) -> None:
    calls, _ = calls_in_text(text, _infos())
    assert [(c.function, c.arguments, c.parse_error) for c in calls] == [("list_server_files", {"ip": "10.0.12.45\n"}, None)]


@pytest.mark.parametrize(
    ("text", "arguments"),
    [
        ('{"name": "list_server_files", "arguments": {}}', {}),  # required ip missing
        ('{"name": "end_task", "arguments": {"file_id": "1234567890"}}', {"file_id": "1234567890"}),  # invented
        ('{"name": "list_server_files", "arguments": {"ip": "10.0.12.45", "dest_ip": "10.0.13.45"}}',
         {"ip": "10.0.12.45", "dest_ip": "10.0.13.45"}),
    ],
)
def test_arguments_are_never_added_or_dropped_so_schema_errors_reach_the_model(text, arguments) -> None:
    calls, _ = calls_in_text(text, _infos())
    assert [(c.arguments, c.parse_error) for c in calls] == [(arguments, None)]
    result = asyncio.run(execute_tools([ChatMessageAssistant(content="", tool_calls=calls)], _defs()))
    assert result.messages[0].error is not None and result.messages[0].error.type == "parsing"


def test_broken_string_arguments_stay_inspects_parse_error() -> None:
    # the 0.5B's reply (issue 16 run): escaped quotes outside a string; nothing is guessed
    text = '{"name": "list_server_files", "arguments": "{\\"ip\\": \\"10.0.12.45\\", \\"x\\": [\\"a\\"}"}'
    calls, _ = calls_in_text(text, _infos())
    assert len(calls) == 1 and calls[0].parse_error is not None and calls[0].arguments == {}


def test_toolcall_objects_carry_unique_ids() -> None:
    calls, _ = calls_in_text('{"name": "end_task"} {"name": "end_task"}', _infos())
    assert len({c.id for c in calls}) == 2 and all(isinstance(c, ToolCall) for c in calls)


def test_the_grammar_offers_each_tool_with_its_own_argument_schema_and_nothing_else() -> None:
    from peerpres.providers.local import call_grammar, call_schema

    [ls, end] = _infos()
    assert call_schema(ls) == {
        "type": "object",
        "properties": {"name": {"const": "list_server_files"}, "arguments": ls.parameters.model_dump(exclude_none=True)},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }
    assert call_schema(end)["properties"]["arguments"]["properties"] == {}
    g = call_grammar(_infos())
    rules = dict(line.split(" ::= ", 1) for line in g.strip().splitlines())
    assert rules["root"] == "prose (call prose){0,8}" and rules["prose"] == "[^{]*"
    assert '"\\"list_server_files\\""' in g and '"\\"end_task\\""' in g and '"\\"ip\\""' in g
    assert "string" in rules and rules["space"] == "[ \\t\\n]{0,20}"


def _capture_generate(monkeypatch, **model_args):
    """A LocalModelAPI whose parent generate() records the config it was given and answers with text."""
    from inspect_ai.model._providers.openai_compatible import OpenAICompatibleAPI

    from peerpres.providers.local import LocalModelAPI

    seen = []

    async def fake(self, input, tools, tool_choice, config):
        seen.append(config)
        return ModelOutput.from_content("local/x", '{"name": "end_task", "arguments": {}}')

    monkeypatch.setattr(OpenAICompatibleAPI, "generate", fake)
    api = LocalModelAPI("local/qwen2.5-coder-0.5b", base_url="http://127.0.0.1:9/v1", **model_args)
    return api, seen


def test_agent_turns_send_the_grammar_and_grader_turns_do_not(monkeypatch) -> None:
    from inspect_ai.model import ChatMessageUser, GenerateConfig

    from peerpres.providers.local import call_grammar

    api, seen = _capture_generate(monkeypatch)
    msgs = [ChatMessageUser(content="Task")]
    out = asyncio.run(api.generate(msgs, _infos(), "auto", GenerateConfig(extra_body={"keep": 1})))
    assert seen[0].extra_body == {"keep": 1, "grammar": call_grammar(_infos())}  # the user's extra_body is kept
    assert [c.function for c in out.message.tool_calls] == ["end_task"]
    asyncio.run(api.generate(msgs, [], "none", GenerateConfig()))
    assert seen[1].extra_body is None  # no tools (a grader call): no grammar, the reply is free


def test_grammar_false_sends_no_grammar(monkeypatch) -> None:
    from inspect_ai.model import ChatMessageUser, GenerateConfig

    api, seen = _capture_generate(monkeypatch, grammar="false")
    asyncio.run(api.generate([ChatMessageUser(content="Task")], _infos(), "auto", GenerateConfig()))
    assert seen[0].extra_body is None


def every_peerpres_tool() -> list[ToolInfo]:
    """Every tool a peerpres episode can offer: the world's tools and the live peer's ``send_message``."""
    from peerpres.tools import TOOLS, world_tools

    defs = world_tools(None, frozenset(TOOLS))  # the world is only used when a tool runs
    infos = [ToolInfo(name=d.name, description=d.description, parameters=d.parameters) for d in defs]
    infos.append(ToolInfo(name="send_message", description="Message someone.", parameters=ToolParams(
        properties={"recipient": JSONSchema(type="string"), "text": JSONSchema(type="string")},
        required=["recipient", "text"])))
    return infos


def test_every_peerpres_tool_converts_to_a_call_grammar() -> None:
    from peerpres.providers.local import call_grammar

    tools = every_peerpres_tool()
    g = call_grammar(tools)
    for t in tools:  # each tool is one alternative of `call`, by name
        assert f'"\\"{t.name}\\""' in g, t.name
    assert len(tools) >= 20


_GBNF_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]|[a-zA-Z0-9-]+|[|()?*+]|\{\d*(?:,\d*)?\}')
_GBNF_UNESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")


def _gbnf_literals(grammar: str) -> list[str]:
    """Every literal of ``grammar``, decoded as llama.cpp's GBNF parser reads it; fails on a rule body that
    does not split into GBNF tokens (an unescaped quote ends a literal early and leaves junk behind)."""
    simple = {"n": "\n", "r": "\r", "t": "\t"}
    out = []
    for line in grammar.strip().splitlines():
        name, body = line.split(" ::= ", 1)
        pos = 0
        while pos < len(body):
            m = _GBNF_TOKEN.match(body, pos)
            assert m is not None, f"rule {name}: not GBNF at {body[pos:pos + 30]!r}"
            if m[0].startswith('"'):
                out.append(_GBNF_UNESCAPE.sub(
                    lambda e: simple.get(e[1], chr(int(e[1][1:], 16)) if len(e[1]) > 1 else e[1]), m[0][1:-1]))
            pos = m.end()
    return out


def test_the_grammar_writes_names_and_values_with_quotes_backslashes_or_any_unicode_exactly_as_json() -> None:
    """llama-cpp-python's converter left backslashes unescaped in a literal: a quote in a name or an enum value
    made a grammar that does not compile, ``a\\b`` allowed JSON for a backspace, an emoji name was unwritable."""
    from peerpres.providers.local import call_grammar

    odd = ['q"uote', "back\\slash", "é ü", "😀", "a\nb", "tab\there", "nul\x01"]
    tools = [
        ToolInfo(name=n, description="d", parameters=ToolParams(
            properties={p: JSONSchema(type="string", enum=odd) for p in odd}, required=odd[:2]))
        for n in ["résumé", "😀", 'say "hi"\\', "a-b.c"]
    ]
    literals = set(_gbnf_literals(call_grammar(tools)))
    for text in [*odd, *(t.name for t in tools)]:
        assert json.dumps(text, ensure_ascii=False) in literals, text


@pytest.mark.parametrize("value, on", [(True, True), (False, False), ("False", False), ("0", False), (0, False),
                                       ("no", False), ("off", False), ("TRUE", True), (1, True), ("yes", True)])
def test_yes_no_model_args_read_every_spelling(monkeypatch, value, on) -> None:
    api, _ = _capture_generate(monkeypatch, grammar=value, tool_prompt=value, progress=value)
    assert api.grammar is on and api.tool_prompt is on and api.progress is on


@pytest.mark.parametrize("arg", ["grammar", "tool_prompt", "progress"])
@pytest.mark.parametrize("value", ["ture", "", None, 2, "disabled"])
def test_a_yes_no_model_arg_that_is_neither_is_an_error_not_silently_false(monkeypatch, arg, value) -> None:
    with pytest.raises(ValueError, match=f"-M {arg}="):
        _capture_generate(monkeypatch, **{arg: value})


def test_tool_choice_any_or_a_named_tool_makes_the_grammar_require_a_call(monkeypatch) -> None:
    """Inspect sends "any" as tool_choice "required", which llama.cpp's server does not enforce: the grammar
    must, or a reply in prose passes a turn that promised a call."""
    from inspect_ai.model import ChatMessageUser, GenerateConfig
    from inspect_ai.tool import ToolFunction

    api, seen = _capture_generate(monkeypatch)
    msgs = [ChatMessageUser(content="Task")]
    for choice in ["auto", "any", ToolFunction(name="end_task")]:
        asyncio.run(api.generate(msgs, _infos(), choice, GenerateConfig()))
    roots = [dict(ln.split(" ::= ", 1) for ln in c.extra_body["grammar"].strip().splitlines())["root"] for c in seen]
    assert roots == ["prose (call prose){0,8}", "prose call prose (call prose){0,7}", "prose call prose (call prose){0,7}"]


@pytest.mark.parametrize("key, value", [("grammar", "root ::= \"yes\""), ("response_format", {"type": "json_object"})])
def test_a_users_own_grammar_or_response_format_is_never_silently_dropped(monkeypatch, key, value) -> None:
    """Ours would overwrite the user's grammar; llama.cpp would replace ours with a json_object grammar."""
    from inspect_ai.model import ChatMessageUser, GenerateConfig

    msgs = [ChatMessageUser(content="Task")]
    api, seen = _capture_generate(monkeypatch)
    with pytest.raises(ValueError, match=f"extra_body sets '{key}'.*-M grammar=false"):
        asyncio.run(api.generate(msgs, _infos(), "auto", GenerateConfig(extra_body={key: value})))
    asyncio.run(api.generate(msgs, [], "none", GenerateConfig(extra_body={key: value})))  # a grader call: as given
    api, seen2 = _capture_generate(monkeypatch, grammar=False)
    asyncio.run(api.generate(msgs, _infos(), "auto", GenerateConfig(extra_body={key: value})))
    assert seen[0].extra_body == seen2[0].extra_body == {key: value}


@pytest.mark.parametrize("arguments", ['{"ip": "\\ud800"}', '{"\\udfff": "x"}', '"{\\"ip\\": \\"a\\\\udc00\\"}"'])
def test_a_lone_surrogate_escape_is_a_parse_error_not_a_call_the_log_cannot_hold(arguments) -> None:
    """JSON (and the grammar's \\uXXXX) allow "\\ud800"; decoded it is no character and pydantic cannot
    serialise the message. A complete pair is a character and stays as written."""
    calls, _ = calls_in_text('{"name": "list_server_files", "arguments": ' + arguments + "}", _infos())
    assert len(calls) == 1 and calls[0].arguments == {} and "surrogate" in (calls[0].parse_error or "")
    ChatMessageAssistant(content="", tool_calls=calls).model_dump_json()
    [ok], _ = calls_in_text('{"name": "list_server_files", "arguments": {"ip": "\\ud83d\\ude00"}}', _infos())
    assert ok.arguments == {"ip": "😀"} and ok.parse_error is None


def test_the_format_instruction_writes_each_call_in_the_one_form_the_grammar_accepts() -> None:
    """The converter fixes the key order (required first, "name"/"arguments" first among them) and, since our
    literals are JSON with ensure_ascii=False, writes "é" as itself: the example line must do the same, or the
    model copying it is pushed off its call."""
    from peerpres.providers.local import argument_order, call_grammar

    s = JSONSchema(type="string")
    tool = ToolInfo(name="résumé", description="d", parameters=ToolParams(
        properties={"opt": s, "email": s, "name": s, "ü": s, "later": s}, required=["email", "name", "ü"]))
    assert argument_order(tool) == ["name", "email", "ü", "opt", "later"]
    prompt = tool_prompt([tool])
    assert '{"name": "résumé", "arguments": {"name": ' in prompt
    keys = [k for k in argument_order(tool)]
    assert [prompt.index(f'"{k}":') for k in keys] == sorted(prompt.index(f'"{k}":') for k in keys)
    rule = dict(ln.split(" ::= ", 1) for ln in call_grammar([tool]).strip().splitlines())["call-0-arguments"]
    kv = [w[len("call-0-arguments-"):-len("-kv")] for w in rule.split() if w.endswith("-kv")]
    assert kv[:3] == ["name", "email", "-"] and kv[3:5] == ["opt", "later"]  # "ü" is the rule name "-"


def test_a_long_string_bound_stays_out_of_the_grammar_so_llama_cpp_accepts_it() -> None:
    """maxLength N became N nested rules, which llama.cpp refuses from about N = 2000 (every agent turn would
    fail at the server); bounds up to MAX_LENGTH_IN_GRAMMAR stay, and enum values that look like one are data."""
    from peerpres.providers.local import MAX_LENGTH_IN_GRAMMAR, call_grammar

    def grammar(**string) -> str:
        s = JSONSchema(type="string", **string)
        nested = JSONSchema(type="array", items=JSONSchema(type="object", properties={"maxLength": s}))
        return call_grammar([ToolInfo(name="w", description="d", parameters=ToolParams(
            properties={"c": s, "l": nested, "e": JSONSchema(enum=[{"maxLength": 9999}])}, required=["c"]))])

    assert grammar(maxLength=5000) == grammar(minLength=5000) == grammar()
    assert len(grammar(maxLength=100_000)) < 5000
    assert len(grammar(maxLength=MAX_LENGTH_IN_GRAMMAR)) > len(grammar())  # a bound it can hold is kept
    assert "9999" in grammar()  # an enum value is data, even one that looks like a bound


@pytest.mark.parametrize("pattern", ["^(?=a)a$", "a+", "^\\p{L}+$", "^\\d{3}-\\w+$", "^(a)\\1$", "^.{0,3000}$"])
def test_a_pattern_stays_out_of_the_grammar(pattern) -> None:
    """The converter raised on most regex syntax (the agent turn failed) and turned \\d, \\w or a back-reference
    into a grammar llama.cpp refuses; Inspect checks the pattern itself when the call runs."""
    from peerpres.providers.local import call_grammar

    def tool(**string) -> list[ToolInfo]:
        return [ToolInfo(name="w", description="d", parameters=ToolParams(
            properties={"c": JSONSchema(type="string", **string),
                        "l": JSONSchema(type="array", items=JSONSchema(type="string", **string))}, required=["c"]))]

    assert call_grammar(tool(pattern=pattern)) == call_grammar(tool())


def test_grammar_true_with_a_llama_cpp_that_cannot_be_imported_fails_at_once_not_at_each_agent_turn(monkeypatch) -> None:
    """find_spec only saw that the package exists; importing it loads llama.cpp's native library, which can
    fail (another CPU or platform), and then every agent turn raised in call_grammar."""
    import sys

    monkeypatch.setitem(sys.modules, "llama_cpp.llama_grammar", None)  # importing it now raises ImportError
    with pytest.raises(ValueError, match="needs llama-cpp-python.*Importing it failed"):
        _capture_generate(monkeypatch)
    api, _ = _capture_generate(monkeypatch, grammar=False)
    assert api.grammar is False
