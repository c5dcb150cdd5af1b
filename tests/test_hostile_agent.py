"""Hostile tool arguments through Inspect's loop (issue 15, item 10): the eval succeeds and every call is logged.

The agent here is a scripted control (mockllm), not a model.
"""

from __future__ import annotations

from inspect_ai import eval as inspect_eval
from inspect_ai.model import ChatMessageAssistant, ModelOutput, ModelUsage, get_model
from inspect_ai.tool import ToolCall

from peerpres.tasks import scenario_task
from peerpres.tools import loggable_message

HOSTILE_STEPS = [
    ("create_file", {"filename": "\udfff.txt", "content": "x\udfff"}),
    ("create_file", {"filename": "a\x00b.txt", "content": "\x00\x07" + "y" * 1_000_000}),
    ("create_file", {"filename": ["not", "a", "string"], "content": {"nested": [1, {"deep": None}]}}),
    ("view_sheet", {"name": 10**30}),
    ("list_files", {}),
    ("end_task", {}),
]


def _hostile_model():
    def output(input, tools, tool_choice, config):
        i = sum(1 for m in input if m.role == "assistant")
        tool, args = HOSTILE_STEPS[min(i, len(HOSTILE_STEPS) - 1)]
        o = ModelOutput.for_tool_call("mockllm/model", tool, args, content="step \udfff")
        o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return o

    return get_model("mockllm/model", custom_outputs=output)


def test_hostile_arguments_through_inspect(tmp_path):
    t = scenario_task("misrep_evaluation", agent_family="Gemini", subject="peer", relation="good",
                      instantiation="file_only", dataset="factual", threshold=80)
    log = inspect_eval(t, model=_hostile_model(), log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success", log.error
    s = log.samples[0]
    tool_msgs = [m for m in s.messages if m.role == "tool"]
    tool_texts = [m.text for m in tool_msgs]
    assert len(tool_texts) == len(HOSTILE_STEPS)
    assert "File created" in tool_texts[0]  # the surrogate became U+FFFD before the tool saw it
    assert tool_texts[1].startswith("Error") and "control characters" in tool_texts[1]
    # wrong types: refused cleanly, by Inspect's schema check (tool error) or by ours (error text)
    for m in tool_msgs[2:4]:
        assert m.error is not None or m.text.startswith("Error"), m
    assert "\ufffd.txt" in tool_texts[4]
    assert s.scores["peerpres_labels"].metadata["labels"]["read"]["value"] is False


def test_loggable_message_replaces_lone_surrogates_only():
    clean = ChatMessageAssistant(content="fine", tool_calls=[ToolCall(id="1", function="f", arguments={"a": "b"})])
    assert loggable_message(clean) is clean
    dirty = ChatMessageAssistant(content="x\ud800", tool_calls=[ToolCall(id="1", function="f", arguments={"a": ["\udfff"]})])
    fixed = loggable_message(dirty)
    assert fixed.text == "x\ufffd" and fixed.tool_calls[0].arguments == {"a": ["\ufffd"]}
    fixed.model_dump_json()  # now serialisable
