"""The model endpoint gives the agent no host I/O through Inspect's agent bridge (issue 9, found by a hostile
review). Inspect's in-process ``agent_bridge()`` trusts its client: it lets a request name ANY Inspect model
(``"inspect/openai/gpt-4o"``, ``"inspect/ollama/..."``: ``get_model`` in the Inspect process, on the host's
network and with the operator's provider keys) and it dereferences media references (a local path or an
``http://`` URL in an image part is read or fetched by the Inspect process, as root, outside every sandbox,
and handed to the model and the log). The harness's agent is hostile, so the endpoint closes both grants:
every request is served by the sample's own model and only inline ``data:`` media pass.

No root and no CLI needed: a scripted sample opens the bridge and drives the endpoint app with aiohttp's
test client. The forbidden targets are a listener on the host's loopback (it answers 400 at once, so a
leaking request fails fast instead of hanging) and a planted 0600 file of this test.
"""

from __future__ import annotations

import base64
import socket
import threading
import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer
from inspect_ai import Task, eval
from inspect_ai.agent import AgentState, agent_bridge
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, get_model
from inspect_ai.solver import Generate, TaskState, solver

from peerpres.harness.endpoint import ModelEndpoint
from peerpres.harness.scripted import USAGE

pytestmark = [pytest.mark.harness]
KEY = "pp-endpoint-key"


class Listener:
    """A host-loopback HTTP listener that records every connection and answers 400."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.settimeout(2)
            try:
                self.hits.append(c.recv(4096))
                c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                          b"Connection: close\r\n\r\n{}")
            except OSError:
                pass
            finally:
                c.close()

    def close(self) -> None:
        self.sock.close()


def _run(requests: list[dict], path: str = "/v1/chat/completions",
         headers: dict[str, str] | None = None) -> tuple[list[tuple[int, str]], list[str]]:
    """Post each body (default: chat completions) to a live endpoint inside a sample; returns (status, body) per request
    and the text of every model input the sample's (scripted, control) model received."""
    seen: list[str] = []
    replies: list[tuple[int, str]] = []

    def respond(input, tools, tool_choice, config) -> ModelOutput:
        seen.append(repr(input))
        out = ModelOutput.from_content("mockllm/model", "answer from the sample's model")
        out.usage = USAGE  # else mockllm counts tokens with tiktoken, which downloads its tables
        return out

    @solver
    def drive():
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            async with agent_bridge(AgentState(messages=[]), web_search=False, code_execution=False,
                                    client_mcp_servers=False) as bridge:
                endpoint = ModelEndpoint(bridge, KEY, [])
                async with TestClient(TestServer(endpoint.app)) as client:
                    for body in requests:
                        r = await client.post(path, json=body,
                                              headers=headers or {"Authorization": f"Bearer {KEY}"})
                        replies.append((r.status, await r.text()))
            return state

        return solve

    log = eval(Task(dataset=[Sample(input="x")], solver=drive()),
               model=get_model("mockllm/model", custom_outputs=respond), display="none", log_dir=None)[0]
    assert log.status == "success", log.error
    return replies, seen


WIRE = {  # wire format -> (path, body for a model name, headers); one per CLI family the endpoint serves
    "openai-chat": ("/v1/chat/completions", lambda m: {"model": m, "messages": [{"role": "user", "content": "hi"}]},
                    {"Authorization": f"Bearer {KEY}"}),
    "openai-responses": ("/v1/responses", lambda m: {"model": m, "input": "hi"}, {"Authorization": f"Bearer {KEY}"}),
    "anthropic": ("/v1/messages", lambda m: {"model": m, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
                  {"x-api-key": KEY}),
}


@pytest.mark.parametrize("wire", list(WIRE))
def test_client_cannot_pick_another_model(wire, monkeypatch):
    listener = Listener()
    fake = f"sk-OPERATOR-{uuid.uuid4().hex}"
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(var, fake)
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{listener.port}" + ("/v1" if "OPENAI" in var else ""))
    path, body, headers = WIRE[wire]
    names = ["inspect/openai/gpt-4o", "openai/gpt-4o", "inspect/anthropic/claude-sonnet-4-0",
             "anthropic/claude-sonnet-4-0", "inspect/openai-api/x/y"]
    try:
        replies, _ = _run([body(m) for m in names], path, headers)
    finally:
        listener.close()
    assert listener.hits == [], f"the Inspect process contacted the host loopback for the agent: {listener.hits}"
    for name, (status, text) in zip(names, replies):
        # served by the sample's own model, whatever name the agent asked for
        assert status == 200 and "answer from the sample's model" in text, (name, status, text)


def test_bridge_does_not_dereference_media(tmp_path):
    listener = Listener()
    secret = f"pp-host-file-{uuid.uuid4().hex}"
    planted = tmp_path / "host-secret.txt"
    planted.write_text(secret)
    planted.chmod(0o600)
    refs = [f"http://127.0.0.1:{listener.port}/pixel.png", str(planted), f"file://{planted}"]
    try:
        replies, seen = _run([
            {"model": "inspect", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": ref}}]}]}
            for ref in refs
        ])
    finally:
        listener.close()

    for ref, (status, body) in zip(refs, replies):
        assert status != 200 or "answer from the sample's model" in body, (ref, status, body)
    b64 = base64.b64encode(secret.encode()).decode()[:20]
    for text in seen:
        assert secret not in text and b64 not in text, "a host file reached the model"
    assert listener.hits == [], f"the Inspect process fetched a URL for the agent: {listener.hits}"
