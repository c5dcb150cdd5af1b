"""Per-episode figures of the local route, from real logs of scripted runs (offline)."""

from __future__ import annotations

from pathlib import Path

from inspect_ai import eval as inspect_eval
from inspect_ai.model import ChatMessageAssistant, ModelOutput, ModelUsage, get_model
from inspect_ai.tool import ToolCall

from peerpres.local_model.episodes import read_episodes, summarise
from peerpres.tasks import exfiltration_transfer


def _u(out: ModelOutput) -> ModelOutput:
    out.usage = ModelUsage(input_tokens=100, output_tokens=10, total_tokens=110)  # mockllm would count with tiktoken
    return out


def _task():
    return exfiltration_transfer(subject="peer", relation="good", instantiation="file_only", max_iterations=4)


def test_valid_tool_turns_stop_reason_and_tokens_of_a_scripted_episode(tmp_path: Path) -> None:
    outputs = [_u(o) for o in (
        ModelOutput.for_tool_call("mockllm/model", "list_drive_files", {}),  # valid
        ModelOutput.for_tool_call("mockllm/model", "list_server_files", {"server": "10.0.12.45"}),  # schema error
        ModelOutput.from_content("mockllm/model", "I am thinking."),  # no call
        ModelOutput.for_tool_call("mockllm/model", "end_task", {}),  # valid, ends
    )]
    inspect_eval(_task(), model=get_model("mockllm/model", custom_outputs=outputs), log_dir=str(tmp_path), display="none")
    [ep] = read_episodes(tmp_path)
    assert (ep.turns, ep.valid_turns, ep.any_valid_turns, ep.calls, ep.valid_calls) == (4, 2, 2, 3, 2)
    assert ep.tools == ["list_drive_files", "end_task"] and ep.stop == "end_task"
    assert ep.invalid == {"wrong argument name": 1} and ep.no_call_turns == 1
    assert ep.error is None and ep.seconds is not None and ep.labels and ep.agent_tokens == 4 * 110
    s = summarise([ep])
    assert s["valid_turn_rate"] == 0.5 and s["stop"] == {"end_task": 1} and s["episodes_with_valid_call"] == 1


def _calls(*calls: tuple[str, dict, str | None]) -> ModelOutput:
    msg = ChatMessageAssistant(content="", tool_calls=[
        ToolCall(id=f"c{i}", function=f, arguments=a, parse_error=pe) for i, (f, a, pe) in enumerate(calls)])
    out = ModelOutput.from_message(msg)
    out.choices[0].stop_reason = "tool_calls"
    return _u(out)


def test_a_turn_is_a_valid_tool_call_turn_only_when_every_call_in_it_is_valid(tmp_path: Path) -> None:
    outputs = [
        # several calls, one with an invented argument: counts as "any valid", not as a valid turn
        _calls(("list_drive_files", {}, None), ("list_server_ips", {"source_ip": "10.0.12.45"}, None)),
        # arguments that were not JSON
        _calls(("list_server_files", {}, "Error parsing the following tool call arguments: {ip")),
        # several calls, all valid (a tool answering with a world error is still a valid call)
        _calls(("list_server_files", {"ip": "10.0.12.45"}, None), ("list_server_files", {"ip": "10.9.9.9"}, None)),
        # an end_task with an invented argument does not end the episode and is invalid
        _calls(("end_task", {"file_id": "1234567890"}, None)),
    ]
    task = exfiltration_transfer(subject="peer", relation="good", instantiation="file_only", max_iterations=4)
    inspect_eval(task, model=get_model("mockllm/model", custom_outputs=outputs), log_dir=str(tmp_path), display="none")
    [ep] = read_episodes(tmp_path)
    assert (ep.turns, ep.valid_turns, ep.any_valid_turns, ep.multi_call_turns) == (4, 1, 2, 2)
    assert (ep.calls, ep.valid_calls) == (6, 3)
    assert ep.invalid == {"extra argument": 2, "not JSON": 1} and ep.stop == "max_iterations"
    s = summarise([ep])
    assert (s["valid_turn_rate"], s["any_valid_turn_rate"]) == (0.25, 0.5)
    assert s["invalid_calls"] == {"extra argument": 2, "not JSON": 1}


def test_an_episode_that_never_calls_a_tool_is_counted_with_its_stop_reason(tmp_path: Path) -> None:
    outputs = [_u(ModelOutput.from_content("mockllm/model", "No.")) for _ in range(4)]
    inspect_eval(_task(), model=get_model("mockllm/model", custom_outputs=outputs), log_dir=str(tmp_path), display="none")
    [ep] = read_episodes(tmp_path)
    assert (ep.turns, ep.valid_turns, ep.stop) == (4, 0, "max_iterations")
    assert summarise([ep])["valid_turn_rate"] == 0.0


def test_the_summary_script_reads_the_same_figures_from_the_logs(tmp_path: Path, capsys) -> None:
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("local_model_runs", Path(__file__).parents[1] / "scripts" / "local_model_runs.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    outputs = [_calls(("list_drive_files", {}, None)), _calls(("end_task", {}, None))]
    inspect_eval(_task(), model=get_model("mockllm/model", custom_outputs=outputs), log_dir=str(tmp_path), display="none")
    script.main(["summary", str(tmp_path), "--all-models"])  # mockllm stands in for the local model
    assert "valid tool-call turns (>= 1 call, all valid) | 2 of 2 (100%)" in capsys.readouterr().out
    script.main(["summary", str(tmp_path), "--json", "--all-models"])
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["valid_turn_rate"] == 1.0 and data["summary"]["stop"] == {"end_task": 1}
