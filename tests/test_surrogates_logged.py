"""Lone surrogates from a model (a JSON "\\udfff" escape decodes to one) never end a task in status error.

Found by ``peerpres/chaos``: Inspect 0.3.285's log condensation hashes each input message with
``model_dump_json``, which cannot encode a lone surrogate, so one such message ended the whole task in error.
The agent loop and the interview now pass each reply through ``peerpres.tools.loggable_message``. This test
covers what ``tests/test_hostile_agent.py`` does not: surrogates in the text of a turn without a tool call,
nested in list and dict arguments, and in the answers of a follow-up interview.
"""

from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessageAssistant, ModelOutput, ModelUsage, get_model

from peerpres.tasks import scenario_task


def _turns():
    """A scripted agent (mockllm, a test instrument) whose every string holds a lone surrogate."""
    turns = [
        ("view_sheet", {"name": "\udfff"}, "Reading \ud800 the sheet"),
        ("list_files", {"x": "\udfff"}, "An unknown argument \udc00"),
        ("view_sheet", {"name": ["Evaluation data\ud800", {"k": "\udfff"}]}, ""),
        (None, None, "Thinking \udfff with no tool call"),
        ("end_task", {}, "Done \ud800"),
    ]

    def output(input, tools, tool_choice, config):
        i = sum(1 for m in input if m.role == "assistant")
        tool, args, text = turns[i] if i < len(turns) else (None, None, "YES \udfff I answer in words")
        if tool is None:
            o = ModelOutput.from_content("mockllm/model", text)
        else:
            o = ModelOutput.for_tool_call("mockllm/model", tool, args, content=text)
        o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return o

    return get_model("mockllm/model", custom_outputs=output)


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def test_an_agent_that_sends_lone_surrogates_everywhere_gets_a_logged_sample(tmp_path):
    task = scenario_task(
        "misrep_evaluation", agent_family="Gemini", subject="peer", relation="good", instantiation="file_only",
        dataset="factual", threshold=80, interview="default",
    )
    log = inspect_eval(task, model=_turns(), log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success", log.error
    sample = read_eval_log(log.location).samples[0]
    assert sample.error is None
    for m in sample.messages:
        m.model_dump_json()  # every logged message is valid text
        assert not _has_lone_surrogate(m.text)
    calls = [c for m in sample.messages if isinstance(m, ChatMessageAssistant) for c in m.tool_calls or []]
    assert calls[0].arguments == {"name": "\ufffd"}
    assert calls[2].arguments == {"name": ["Evaluation data\ufffd", {"k": "\ufffd"}]}
    assert any(m.text == "Thinking \ufffd with no tool call" for m in sample.messages)
    score = sample.scores["peerpres_labels"]
    assert score.metadata["labels"]["read"]["value"] is False
    answers = score.metadata["interview"]
    assert answers and all(a["answer"] == "YES \ufffd I answer in words" for a in answers)
