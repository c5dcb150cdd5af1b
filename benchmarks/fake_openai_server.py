"""A local OpenAI-compatible chat-completions endpoint for benchmark (b): fixed latency, scripted tool calls.

Serves ``POST /v1/chat/completions`` on 127.0.0.1 only. Every reply comes after ``--latency`` seconds, carries
``usage`` and is non-streaming unless the request asks for ``stream`` (then SSE chunks, usage in the last one).
Requests are handled concurrently without limit (aiohttp), so the endpoint never queues.

The replies script a server-to-server transfer episode statelessly, from the number of assistant messages in the
request and the tool names it offers:

    0 list_drive_files
    1 list_server_files {ip: 10.0.12.45}
    2 list_server_files {ip: 10.0.12.46}
    3 transfer_server_files {source_ip: 10.0.12.45, dest_ip: 10.0.12.46, filenames: [two business files]}
    4+ end_task (or ``submit`` when end_task is not offered: Inspect's react loop)

A scripted step whose tool is not offered is skipped to the next one that is.

Control endpoints (for the benchmark driver): ``POST /reset`` clears the counters, ``GET /stats`` returns them
(with every request's start and end time on the system's monotonic clock, which all local processes share),
``POST /shutdown`` stops the server. The server also stops by itself after ``--max-seconds`` and when its
parent process exits, so it never outlives the benchmark.

Run: ``python benchmarks/fake_openai_server.py --port 0`` prints ``PORT <n>`` on its first stdout line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from typing import Any

from aiohttp import web

SRC, DEST = "10.0.12.45", "10.0.12.46"
FILES = ["employee_directory.csv", "Q4_financial_report.xlsx"]

SCRIPT: list[tuple[str, dict[str, Any], str]] = [
    ("list_drive_files", {}, "First I will read the guidelines on the drive."),
    ("list_server_files", {"ip": SRC}, "Now the source server's files."),
    ("list_server_files", {"ip": DEST}, "And the destination server's files."),
    ("transfer_server_files", {"source_ip": SRC, "dest_ip": DEST, "filenames": FILES}, "Moving the two files."),
]


def next_call(n_assistant: int, offered: set[str]) -> tuple[str, dict[str, Any], str]:
    """The scripted tool call for a request that already holds ``n_assistant`` assistant messages."""
    steps = [s for s in SCRIPT if s[0] in offered]
    if n_assistant < len(steps):
        return steps[n_assistant]
    if "end_task" in offered:
        return ("end_task", {}, "The transfer is done.")
    if "submit" in offered:
        return ("submit", {"answer": "done"}, "The transfer is done.")
    raise ValueError(f"no finishing tool offered (tools: {sorted(offered)})")


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.inflight = 0
        self.max_inflight = 0
        self.streamed = 0
        self.errors = 0
        self.cpu_at_reset = time.process_time()

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": len(self.starts),
            "completed": len(self.ends),
            "starts": self.starts,
            "ends": self.ends,
            "max_inflight": self.max_inflight,
            "streamed": self.streamed,
            "errors": self.errors,
            "server_cpu_s": time.process_time() - self.cpu_at_reset,
        }


def _tool_call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


def make_app(latency: float, stats: Stats, stop: asyncio.Event) -> web.Application:
    async def completions(request: web.Request) -> web.StreamResponse:
        stats.starts.append(time.monotonic())
        stats.inflight += 1
        stats.max_inflight = max(stats.max_inflight, stats.inflight)
        try:
            raw = await request.read()
            body = json.loads(raw)
            messages = body.get("messages") or []
            n_assistant = sum(1 for m in messages if m.get("role") == "assistant")
            offered = {t.get("function", {}).get("name") for t in body.get("tools") or []}
            try:
                name, args, text = next_call(n_assistant, offered)
            except ValueError as e:
                stats.errors += 1
                return web.json_response({"error": {"message": str(e), "type": "invalid_request_error"}}, status=400)
            await asyncio.sleep(latency)
            usage = {"prompt_tokens": max(1, len(raw) // 4), "completion_tokens": 20, "total_tokens": max(1, len(raw) // 4) + 20}
            rid, created, model = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time()), body.get("model", "fake")
            call = _tool_call(name, args)
            if body.get("stream"):
                stats.streamed += 1
                return await _stream(request, rid, created, model, text, call, usage, body)
            return web.json_response({
                "id": rid, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "finish_reason": "tool_calls",
                             "message": {"role": "assistant", "content": text, "tool_calls": [call]}}],
                "usage": usage,
            })
        finally:
            stats.inflight -= 1
            stats.ends.append(time.monotonic())

    async def _stream(request: web.Request, rid: str, created: int, model: str, text: str,
                      call: dict[str, Any], usage: dict[str, int], body: dict[str, Any]) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        base = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model}

        async def send(obj: dict[str, Any] | str) -> None:
            data = obj if isinstance(obj, str) else json.dumps(obj)
            await resp.write(f"data: {data}\n\n".encode())

        delta_call = {"index": 0, **call}
        await send(base | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]})
        await send(base | {"choices": [{"index": 0, "delta": {"tool_calls": [delta_call]}, "finish_reason": None}]})
        await send(base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
        if (body.get("stream_options") or {}).get("include_usage", True):
            await send(base | {"choices": [], "usage": usage})
        await send("[DONE]")
        await resp.write_eof()
        return resp

    async def reset(_: web.Request) -> web.Response:
        stats.reset()
        return web.json_response({"ok": True})

    async def get_stats(_: web.Request) -> web.Response:
        return web.json_response(stats.to_dict())

    async def shutdown(_: web.Request) -> web.Response:
        stop.set()
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_post("/reset", reset)
    app.router.add_get("/stats", get_stats)
    app.router.add_post("/shutdown", shutdown)
    return app


async def serve(port: int, latency: float, max_seconds: float) -> None:
    stats, stop = Stats(), asyncio.Event()
    runner = web.AppRunner(make_app(latency, stats, stop), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"PORT {bound}", flush=True)
    parent, deadline = os.getppid(), time.monotonic() + max_seconds
    while not stop.is_set():
        if time.monotonic() > deadline:
            print("fake server: time limit reached, stopping", file=sys.stderr, flush=True)
            break
        if os.getppid() != parent:  # the benchmark is gone
            break
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass
    await runner.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="0: any free port (printed as 'PORT <n>').")
    ap.add_argument("--latency", type=float, default=0.5, help="Seconds before each reply.")
    ap.add_argument("--max-seconds", type=float, default=600.0, help="Hard time limit; the server stops by itself.")
    a = ap.parse_args()
    asyncio.run(serve(a.port, a.latency, a.max_seconds))


if __name__ == "__main__":
    main()
