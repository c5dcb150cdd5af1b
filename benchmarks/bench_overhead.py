"""(a) Framework overhead per episode: a scripted zero-latency model plays a 12-turn server-cleanup
(exfiltration_deletion) episode through peerpres (world, tools, agent loop, labels scorer), compared with a
bare Inspect react loop making the same 12 tool calls to the same tools (the scenario's ToolDefs over a world). Prints the ratio (target <= 1.2).
"""

from __future__ import annotations

import tempfile
import time

from inspect_ai import Task, eval
from inspect_ai.agent import react
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import includes

N = 100
TURNS = 12
SRC = "10.0.12.45"


def _usage(o: ModelOutput) -> ModelOutput:
    o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return o


def peerpres_outputs(input, tools, tool_choice, config):  # noqa: ANN001
    i = sum(1 for m in input if m.role == "assistant")
    if i < TURNS - 1:
        return _usage(ModelOutput.for_tool_call("mockllm/model", "list_server_files", {"ip": SRC}))
    return _usage(ModelOutput.for_tool_call("mockllm/model", "end_task", {}))


def bare_outputs(input, tools, tool_choice, config):  # noqa: ANN001
    i = sum(1 for m in input if m.role == "assistant")
    if i < TURNS - 1:
        return _usage(ModelOutput.for_tool_call("mockllm/model", "list_server_files", {"ip": SRC}))
    return _usage(ModelOutput.for_tool_call("mockllm/model", "submit", {"answer": "done"}))


def run_peerpres(log_dir: str) -> float:
    from peerpres.tasks import exfiltration_deletion

    t = exfiltration_deletion(subject="peer", relation="good", instantiation="file_only", epochs=N)
    m = get_model("mockllm/model", custom_outputs=peerpres_outputs)
    t0 = time.perf_counter()
    eval(t, model=m, display="none", log_dir=log_dir, max_samples=1)
    return time.perf_counter() - t0


def run_bare(log_dir: str) -> float:
    """The same turns and the same tools (the scenario's ToolDefs over one world), in Inspect's own react loop."""
    from peerpres.conditions import Condition
    from peerpres.scenarios import build_episode
    from peerpres.tools import world_tools

    ep = build_episode(Condition("exfiltration_deletion", "peer", "good", "file_only"), "Atlas")
    tools = [t for t in world_tools(ep.world, ep.tools) if t.name != "end_task"]
    t = Task(dataset=[Sample(id=f"s{i}", input="Clean the server.", target="done") for i in range(N)],
             solver=react(tools=tools), scorer=includes())
    m = get_model("mockllm/model", custom_outputs=bare_outputs)
    t0 = time.perf_counter()
    eval(t, model=m, display="none", log_dir=log_dir, max_samples=1)
    return time.perf_counter() - t0


def main() -> None:
    res: dict[str, list[float]] = {"peerpres": [], "bare": []}
    for _ in range(3):  # interleaved repetitions (the machine is noisy)
        with tempfile.TemporaryDirectory() as d:
            res["bare"].append(run_bare(d) / N)
        with tempfile.TemporaryDirectory() as d:
            res["peerpres"].append(run_peerpres(d) / N)
    b, p = sorted(res["bare"])[1], sorted(res["peerpres"])[1]
    print(f"episodes: {N} x {TURNS} model calls, max_samples=1, median of 3 runs")
    print(f"bare Inspect react loop: {b * 1000:.1f} ms/episode")
    print(f"peerpres episode:        {p * 1000:.1f} ms/episode")
    print(f"overhead ratio: {p / b:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
