"""A real model end to end: one full episode, agent and grader both the local 0.5B through the real llama.cpp
server. Asserts structure, not behaviour: the log succeeded, at least one valid tool call, every label is
determined or undetermined with a reason, and the report renders.

Needs ``bash scripts/setup_local_model.sh`` (``make test`` runs it); fails, never skips, when it is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from peerpres.local_model import server
from peerpres.local_model.episodes import episode_of
from peerpres.local_model.weights import DEFAULT_MODEL

pytestmark = [pytest.mark.local_model, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def local_server():
    started = server.recorded() is None
    info = server.serve(DEFAULT_MODEL)  # raises with what to do when the weights or llama-cpp-python are missing
    yield info
    if started:
        server.stop()


def test_one_full_episode_on_the_local_model_with_the_local_grader(local_server, tmp_path: Path) -> None:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from peerpres.report.writer import write_report
    from peerpres.tasks import exfiltration_transfer

    model = local_server.inspect_model
    url = local_server.base_url
    task = exfiltration_transfer(subject="peer", relation="good", instantiation="file_only", max_iterations=8)
    [log] = inspect_eval(
        task, model=model, model_base_url=url, model_roles={"grader": get_model(model, base_url=url, role="grader")},
        log_dir=str(tmp_path / "logs"), display="none", max_connections=1, temperature=0.0, seed=1,
    )
    assert log.status == "success", log.error
    [sample] = log.samples
    assert sample.error is None
    ep = episode_of(log, sample)
    assert ep.turns >= 1 and ep.valid_calls >= 1, f"no valid tool call in {ep.turns} turns: {ep}"
    assert ep.stop in ("end_task", "blank_turns", "max_iterations")
    [score] = sample.scores.values()
    labels = score.metadata["labels"]
    assert labels
    for name, label in labels.items():
        if label["source"] == "undetermined":
            assert label["reason"], f"label {name} is undetermined without a reason"
        else:
            assert label["source"] == "deterministic" or label["source"].startswith("judge:"), (name, label)
    paths = write_report(str(tmp_path / "logs"), tmp_path / "report")
    html = Path(paths["html"]).read_text()
    assert model in html and "exfiltration_transfer" in html


def test_the_grammar_keeps_a_written_call_inside_its_schema_and_leaves_prose_free(local_server) -> None:
    """Through the real server: asked to copy a call with an invented argument, the model can only write the
    call that fits the schema (``end_task`` takes none); asked a plain question it still answers in text."""
    import asyncio

    from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig, get_model
    from inspect_ai.tool import ToolInfo, ToolParams

    from peerpres.providers.local import MAX_CALLS_PER_TURN

    model = get_model(local_server.inspect_model, base_url=local_server.base_url)
    tools = [ToolInfo(name="end_task", description="End the task.", parameters=ToolParams())]
    cfg = GenerateConfig(temperature=0.0, seed=1, max_tokens=60)
    copy = [
        ChatMessageSystem(content="You copy text exactly."),
        ChatMessageUser(content='Write exactly this and nothing else: {"name": "end_task", "arguments": {"task_id": 7}}'),
    ]
    out = asyncio.run(model.generate(copy, tools=tools, config=cfg))
    calls = out.message.tool_calls or []
    assert [c.function for c in calls] == ["end_task"], out.message.text
    assert calls[0].arguments == {} and calls[0].parse_error is None
    many = [ChatMessageUser(content="Write this line twelve times: " + '{"name": "end_task", "arguments": {}}')]
    out = asyncio.run(model.generate(many, tools=tools, config=cfg.merge(GenerateConfig(max_tokens=300))))
    assert 1 <= len(out.message.tool_calls or []) <= MAX_CALLS_PER_TURN, out.message
    ask = [ChatMessageUser(content="In one word, without using any tool: what colour is a clear daytime sky?")]
    out = asyncio.run(model.generate(ask, tools=tools, config=cfg))
    assert not out.message.tool_calls and out.message.text.strip(), out.message


def test_the_server_accepts_the_grammar_of_every_peerpres_tool(local_server) -> None:
    """A grammar llama.cpp cannot parse would fail the request: one short request offering every tool."""
    import json
    import urllib.request

    from test_local_provider import every_peerpres_tool

    from peerpres.providers.local import call_grammar

    body = {"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 4, "temperature": 0,
            "grammar": call_grammar(every_peerpres_tool())}
    req = urllib.request.Request(f"{local_server.base_url}/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        assert r.status == 200 and json.loads(r.read())["choices"]
