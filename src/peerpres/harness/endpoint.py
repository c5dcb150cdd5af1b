"""The model endpoint the agent CLIs talk to, served inside the run's network namespace.

It speaks the two wire formats the CLIs use and hands every request to Inspect's agent bridge, so the
sample's model (any Inspect model: a real provider, a local server, or ``mockllm`` in tests) answers, and
each call is logged as a model event of the sample:

- OpenAI chat completions (OpenCode): ``POST /v1/chat/completions``, streaming (SSE) or not; ``GET /v1/models``;
- Gemini API (Gemini CLI): ``POST /v1beta/models/<m>:generateContent`` and ``:streamGenerateContent?alt=sse``;
- Anthropic Messages API (Claude Code): ``POST /v1/messages`` (``?beta=true`` too), streaming (SSE) or not;
  ``POST /v1/messages/count_tokens`` answers a rough estimate (the bridge has no token counter);
- OpenAI Responses API (Codex CLI): ``POST /v1/responses``, streaming (SSE) or not.

Streaming answers are sent as one complete chunk followed by the end marker (the bridge generates whole
responses). Whatever model name a request carries, the sample's own model answers, and the bridge never
reads or fetches a media reference (a file path or URL in an image part is refused; inline ``data:`` passes):
the agent gets no model choice, host file or host network through the Inspect process. The API key the CLI sends is checked against the run's random key and never logged. Nothing the
endpoint returns carries a real credential: every answer and error message passes through
``redact.redact`` with the process's credentials (``redact.process_secrets``), so a provider error that
quotes the real key reaches the CLI as ``[redacted]``.
"""

from __future__ import annotations

import hmac
import json
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from inspect_ai.agent._bridge.types import AgentBridge

from .redact import process_secrets, redact


@dataclass
class EndpointLog:
    """What went over the endpoint (without keys)."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dropped_errors: int = 0  # errors past MAX_ERRORS, counted and not kept

    MAX_ERRORS = 100  # kept in the sample's record; a CLI that loops on a bad route must not fill the log
    MAX_ERROR_CHARS = 500

    def error(self, message: str) -> None:
        """Keep one error line (cut at ``MAX_ERROR_CHARS``); past ``MAX_ERRORS`` only count it, and say so in the
        last kept line."""
        if len(self.errors) < self.MAX_ERRORS:
            text = " ".join(message.split())
            self.errors.append(text if len(text) <= self.MAX_ERROR_CHARS else text[: self.MAX_ERROR_CHARS] + "…")
            return
        # the last kept line becomes the count (so it counts itself too)
        self.dropped_errors += 2 if self.dropped_errors == 0 else 1
        self.errors[-1] = f"… and {self.dropped_errors} more endpoint error(s), not kept"


def _sse(events: list[Any]) -> bytes:
    return b"".join(b"data: " + (e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n\n" for e in events)


def _anthropic_events(message: dict[str, Any]) -> bytes:
    """A complete Anthropic ``Message`` as the Messages API's streaming events (one delta per block)."""
    out: list[bytes] = []

    def ev(kind: str, data: dict[str, Any]) -> None:
        out.append(f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode())

    usage = dict(message.get("usage") or {})
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**usage, "output_tokens": 0}}
    ev("message_start", {"message": start})
    for i, block in enumerate(message.get("content") or []):
        kind = block.get("type")
        if kind == "text":
            ev("content_block_start", {"index": i, "content_block": {"type": "text", "text": ""}})
            ev("content_block_delta", {"index": i, "delta": {"type": "text_delta", "text": block.get("text", "")}})
        elif kind == "tool_use":
            ev("content_block_start", {"index": i, "content_block": {**block, "input": {}}})
            ev("content_block_delta", {"index": i, "delta": {"type": "input_json_delta",
                                                             "partial_json": json.dumps(block.get("input") or {})}})
        elif kind == "thinking":
            ev("content_block_start", {"index": i, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
            ev("content_block_delta", {"index": i, "delta": {"type": "thinking_delta", "thinking": block.get("thinking", "")}})
            if block.get("signature"):
                ev("content_block_delta", {"index": i, "delta": {"type": "signature_delta", "signature": block["signature"]}})
        else:  # redacted thinking, server tool blocks: sent whole
            ev("content_block_start", {"index": i, "content_block": block})
        ev("content_block_stop", {"index": i})
    ev("message_delta", {"delta": {"stop_reason": message.get("stop_reason"), "stop_sequence": None},
                         "usage": {"output_tokens": usage.get("output_tokens", 0)}})
    ev("message_stop", {})
    return b"".join(out)


def _responses_events(response: dict[str, Any]) -> bytes:
    """A complete Responses API ``Response`` as its streaming events (created, each output item, completed)."""
    out: list[bytes] = []
    seq = 0

    def ev(kind: str, data: dict[str, Any]) -> None:
        nonlocal seq
        out.append(f"event: {kind}\ndata: {json.dumps({'type': kind, 'sequence_number': seq, **data})}\n\n".encode())
        seq += 1

    ev("response.created", {"response": {**response, "status": "in_progress", "output": []}})
    for i, item in enumerate(response.get("output") or []):
        ev("response.output_item.added", {"output_index": i, "item": item})
        ev("response.output_item.done", {"output_index": i, "item": item})
    ev("response.completed", {"response": {**response, "status": response.get("status") or "completed"}})
    return b"".join(out)


def _openai_chunks(completion: dict[str, Any]) -> list[Any]:
    chunks: list[Any] = []
    base = {"id": completion.get("id") or uuid.uuid4().hex, "object": "chat.completion.chunk",
            "created": completion.get("created") or int(time.time()), "model": completion.get("model", "inspect")}
    for ch in completion.get("choices", []):
        msg = ch.get("message") or {}
        delta: dict[str, Any] = {"role": "assistant", "content": msg.get("content") or ""}
        if msg.get("tool_calls"):
            delta["tool_calls"] = [
                {"index": i, "id": tc["id"], "type": "function",
                 "function": {"name": tc["function"]["name"], "arguments": tc["function"]["arguments"]}}
                for i, tc in enumerate(msg["tool_calls"])
            ]
        chunks.append({**base, "choices": [{"index": ch.get("index", 0), "delta": delta, "finish_reason": None}]})
        chunks.append({**base, "choices": [{"index": ch.get("index", 0), "delta": {}, "finish_reason": ch.get("finish_reason") or "stop"}]})
    if completion.get("usage"):
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    chunks.append(b"[DONE]")
    return chunks


class ModelEndpoint:
    """An aiohttp app bound to a socket inside the namespace; routes to an Inspect ``AgentBridge``."""

    def __init__(self, bridge: AgentBridge, api_key: str, secrets: list[str] | None = None) -> None:
        """``secrets``: the real credentials to keep out of every answer (default: ``process_secrets()``)."""
        # Inspect's in-process agent_bridge() trusts its client: it lets a request name any Inspect model
        # (get_model in this process: host network, operator's provider keys) and reads or fetches media
        # references (a local path or URL in an image part). The agent is hostile: close both grants, so
        # every request is served by the sample's model and only inline `data:` media pass.
        if bridge is not None:  # None only in tests that replace the converters
            bridge.allow_client_model_names = False
            bridge.allow_remote_media = False
        self.bridge = bridge
        self.api_key = api_key
        self.secrets = process_secrets() if secrets is None else secrets
        self.log = EndpointLog()
        self._runner: web.AppRunner | None = None
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1beta/models/{call}", self._gemini)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self.app = app

    async def start(self, sock: socket.socket) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- helpers ---------------------------------------------------------------------------------------------
    def _authorised(self, request: web.Request) -> bool:
        given = (request.headers.get("x-goog-api-key") or request.headers.get("x-api-key")
                 or request.query.get("key") or "")
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            given = given or auth[7:]
        return hmac.compare_digest(given.encode(), self.api_key.encode())

    def _err(self, e: BaseException) -> str:
        return redact(f"{type(e).__name__}: {e}", self.secrets)

    def _record(self, api: str, body: dict[str, Any], stream: bool) -> None:
        self.log.requests.append({"api": api, "stream": stream, "model": body.get("model"),
                                  "n_messages": len(body.get("messages") or body.get("contents") or body.get("input") or []),
                                  "n_tools": len(body.get("tools") or [])})

    # -- routes ----------------------------------------------------------------------------------------------
    async def _unknown(self, request: web.Request) -> web.Response:
        self.log.error(f"unsupported route {request.method} {request.path}")
        return web.json_response({"error": {"message": "not found"}}, status=404)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "inspect", "object": "model", "owned_by": "inspect"}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"error": {"message": "invalid api key"}}, status=401)
        body = await request.json()
        stream = bool(body.get("stream"))
        self._record("openai-chat", body, stream)
        try:
            # needs the `openai` package (Inspect's converters)
            from inspect_ai.agent._bridge.completions import inspect_completions_api_request

            completion = await inspect_completions_api_request(body, None, self.bridge)
        except Exception as e:  # noqa: BLE001 - reported to the CLI as an API error and stored in endpoint_errors
            self.log.error(f"openai-chat: {self._err(e)}")
            return web.json_response({"error": {"message": self._err(e)}}, status=500)
        data = redact(completion.model_dump(exclude_none=True), self.secrets)
        if not stream:
            return web.json_response(data)
        return web.Response(body=_sse(_openai_chunks(data)), content_type="text/event-stream")

    async def _gemini(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"error": {"code": 401, "message": "API key not valid", "status": "UNAUTHENTICATED"}}, status=401)
        model, _, method = request.match_info["call"].partition(":")
        if method not in ("generateContent", "streamGenerateContent"):
            return await self._unknown(request)
        body = await request.json()
        stream = method == "streamGenerateContent"
        self._record("gemini", body, stream)
        try:
            # needs the `google-genai` package (Inspect's converters)
            from inspect_ai.agent._bridge.google_api_impl import inspect_google_api_request_impl

            resp = await inspect_google_api_request_impl(body, None, None, self.bridge, requested_model=model)
        except Exception as e:  # noqa: BLE001 - reported to the CLI and stored in endpoint_errors
            self.log.error(f"gemini: {self._err(e)}")
            return web.json_response({"error": {"code": 500, "message": self._err(e), "status": "INTERNAL"}}, status=500)
        resp = redact(resp, self.secrets)
        if not stream:
            return web.json_response(resp)
        return web.Response(body=_sse([resp]), content_type="text/event-stream")

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"type": "error", "error": {"type": "authentication_error",
                                                                 "message": "invalid x-api-key"}}, status=401)
        body = await request.json()
        stream = bool(body.get("stream"))
        beta = request.query.get("beta") == "true"
        self._record("anthropic", body, stream)
        try:
            # needs the `anthropic` package (Inspect's converters)
            from inspect_ai.agent._bridge.anthropic_api import inspect_anthropic_api_request

            message = await inspect_anthropic_api_request(body, None, None, None, self.bridge, beta=beta)
        except Exception as e:  # noqa: BLE001 - reported to the CLI as an API error and stored in endpoint_errors
            self.log.error(f"anthropic: {self._err(e)}")
            return web.json_response({"type": "error", "error": {"type": "api_error",
                                                                 "message": self._err(e)}}, status=500)
        data = redact(message.model_dump(exclude_none=True, mode="json"), self.secrets)
        if not stream:
            return web.json_response(data)
        return web.Response(body=_anthropic_events(data), content_type="text/event-stream")

    async def _count_tokens(self, request: web.Request) -> web.Response:
        """Rough count (characters / 4): Claude Code asks for it to size its context; the bridge has no counter."""
        if not self._authorised(request):
            return web.json_response({"type": "error", "error": {"type": "authentication_error",
                                                                 "message": "invalid x-api-key"}}, status=401)
        body = await request.read()
        return web.json_response({"input_tokens": max(1, len(body) // 4)})

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"error": {"message": "invalid api key", "type": "invalid_request_error"}}, status=401)
        body = await request.json()
        stream = bool(body.get("stream"))
        self._record("openai-responses", body, stream)
        try:
            # needs the `openai` package (Inspect's converters)
            from inspect_ai.agent._bridge.responses import inspect_responses_api_request

            response = await inspect_responses_api_request(body, None, None, None, self.bridge)
        except Exception as e:  # noqa: BLE001 - reported to the CLI as an API error and stored in endpoint_errors
            self.log.error(f"openai-responses: {self._err(e)}")
            return web.json_response({"error": {"message": self._err(e), "type": "server_error"}}, status=500)
        data = redact(response.model_dump(exclude_none=True, mode="json"), self.secrets)
        if not stream:
            return web.json_response(data)
        return web.Response(body=_responses_events(data), content_type="text/event-stream")
