"""The harness model endpoint never hands a real credential to the agent (issue 9): a provider error that
quotes the real key, or an answer that contains it, reaches the CLI with the key replaced by [redacted]. No
root, no CLI: the endpoint app is driven directly with aiohttp's test client."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from peerpres.harness.endpoint import EndpointLog, ModelEndpoint
from peerpres.harness.redact import process_secrets, redact

REAL = "sk-REAL-provider-key-0123456789"
MODEL_KEY = "sk-MODEL-arg-key-9876543210"
ENDPOINT_KEY = "pp-endpoint-key"


def _post(endpoint: ModelEndpoint, *requests: tuple[str, dict, dict]) -> list[tuple[int, str]]:
    """(status, body) of each (path, json body, headers), all in one event loop."""
    async def go() -> list[tuple[int, str]]:
        out = []
        async with TestClient(TestServer(endpoint.app)) as client:
            for path, body, headers in requests:
                r = await client.post(path, json=body, headers=headers)
                out.append((r.status, await r.text()))
        return out

    return asyncio.run(go())


def test_process_secrets_reads_credential_named_variables(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", REAL)
    monkeypatch.setenv("SOME_TOKEN", "tok-abcdefgh")
    monkeypatch.setenv("PLAIN_SETTING", "visible-value-123")
    found = process_secrets([MODEL_KEY, None, "short"])
    assert REAL in found and "tok-abcdefgh" in found and MODEL_KEY in found
    assert "visible-value-123" not in found and "short" not in found
    assert redact({"a": [f"x {REAL} y"], "b": 3}, found) == {"a": ["x [redacted] y"], "b": 3}


@pytest.mark.parametrize(("path", "module", "func", "headers"), [
    ("/v1/chat/completions", "inspect_ai.agent._bridge.completions", "inspect_completions_api_request",
     {"Authorization": f"Bearer {ENDPOINT_KEY}"}),
    ("/v1/messages", "inspect_ai.agent._bridge.anthropic_api", "inspect_anthropic_api_request",
     {"x-api-key": ENDPOINT_KEY}),
    ("/v1/responses", "inspect_ai.agent._bridge.responses", "inspect_responses_api_request",
     {"Authorization": f"Bearer {ENDPOINT_KEY}"}),
    ("/v1beta/models/inspect:generateContent", "inspect_ai.agent._bridge.google_api_impl",
     "inspect_google_api_request_impl", {"x-goog-api-key": ENDPOINT_KEY}),
])
def test_provider_error_quoting_the_key_is_redacted(path, module, func, headers, monkeypatch):
    import importlib

    async def failing(*args, **kwargs):
        raise RuntimeError(f"401 Incorrect API key provided: {REAL} (model key {MODEL_KEY})")

    monkeypatch.setattr(importlib.import_module(module), func, failing)
    monkeypatch.setenv("OPENAI_API_KEY", REAL)
    endpoint = ModelEndpoint(bridge=None, api_key=ENDPOINT_KEY, secrets=process_secrets([MODEL_KEY]))  # type: ignore[arg-type]
    [(status, text)] = _post(endpoint, (path, {"model": "inspect", "messages": [], "contents": [], "input": []}, headers))
    assert status == 500
    assert REAL not in text and MODEL_KEY not in text
    assert "[redacted]" in text and "Incorrect API key" in text  # the error itself still reaches the CLI
    assert endpoint.log.errors and not any(REAL in e or MODEL_KEY in e for e in endpoint.log.errors)


def test_answer_containing_the_key_is_redacted(monkeypatch):
    from inspect_ai.agent._bridge import completions

    class Completion:
        def model_dump(self, **kw):
            return {"id": "c1", "choices": [{"index": 0, "message": {"role": "assistant", "content": f"key is {REAL}"},
                                             "finish_reason": "stop"}]}

    async def answer(*args, **kwargs):
        return Completion()

    monkeypatch.setattr(completions, "inspect_completions_api_request", answer)
    endpoint = ModelEndpoint(bridge=None, api_key=ENDPOINT_KEY, secrets=[REAL])  # type: ignore[arg-type]
    auth = {"Authorization": f"Bearer {ENDPOINT_KEY}"}
    plain, streamed, wrong = _post(
        endpoint,
        ("/v1/chat/completions", {"model": "inspect", "messages": [], "stream": False}, auth),
        ("/v1/chat/completions", {"model": "inspect", "messages": [], "stream": True}, auth),
        ("/v1/chat/completions", {"model": "inspect", "messages": []}, {"Authorization": "Bearer wrong"}),
    )
    for status, text in (plain, streamed):
        assert status == 200 and REAL not in text and "key is [redacted]" in text
    # a wrong key is refused before anything reaches the model
    assert wrong[0] == 401 and json.loads(wrong[1])["error"]["message"] == "invalid api key"


def test_unknown_routes_are_logged_with_a_cap():
    """A CLI that loops on an unsupported route (or sends a megabyte path) must not grow the sample's record
    without bound: 100 lines at most, each cut, and the rest counted."""

    async def go() -> tuple[list[int], EndpointLog]:
        endpoint = ModelEndpoint(bridge=None, api_key=ENDPOINT_KEY, secrets=process_secrets([]))  # type: ignore[arg-type]
        async with TestClient(TestServer(endpoint.app)) as client:
            codes = []
            for i in range(250):
                r = await client.get(f"/v1/nowhere/{i}/" + "x" * (2000 if i == 0 else 1))
                codes.append(r.status)
        return codes, endpoint.log

    codes, log = asyncio.run(go())
    assert set(codes) == {404}
    assert len(log.errors) == 100 and all(len(e) <= 501 for e in log.errors)
    assert log.errors[0].startswith("unsupported route GET /v1/nowhere/0/xxx") and log.errors[0].endswith("…")
    assert log.errors[-1] == "… and 151 more endpoint error(s), not kept"  # 99 kept + 151 counted = 250
    assert log.dropped_errors == 151
