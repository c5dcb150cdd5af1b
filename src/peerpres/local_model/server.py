"""The llama.cpp server for a local model: start on 127.0.0.1, wait until it answers, stop by recorded PID.

``serve`` starts ``python -m llama_cpp.server`` (llama-cpp-python's OpenAI-compatible server, from its
``[server]`` extra) at low CPU priority (nice 10) on a free port of 127.0.0.1, records its PID, port and the
process's start time in ``<cache>/server.json``, and returns once ``GET /v1/models`` answers. ``stop`` kills
only that process: the PID must still belong to a process started at the recorded time whose command line is
the recorded server, otherwise the record is stale and nothing is killed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from .weights import DEFAULT_MODEL, WeightsError, cache_dir, get_spec, model_path, verify

N_CTX = 16384  # tokens of context; the longest peerpres episodes at 30 turns stay below it


class ServerError(RuntimeError):
    """The server could not be started or is not running; the message says what to do."""


@dataclass(frozen=True)
class ServerInfo:
    """A running server as recorded in ``server.json``."""

    pid: int
    create_time: float  # psutil's process start time, seconds since the epoch
    port: int
    model: str  # the weights name, e.g. "qwen2.5-coder-0.5b"
    model_file: str
    n_ctx: int
    n_threads: int
    log_file: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def inspect_model(self) -> str:
        """The Inspect model string that reaches this server through the peerpres/local provider."""
        return f"peerpres/local/{self.model}"


def state_file() -> Path:
    return cache_dir() / "server.json"


def llama_cpp_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None


def idle_cores() -> int:
    """Cores not busy at start (at least 1): llama.cpp's threads synchronise at every layer, so on an
    oversubscribed machine 2 threads generate far slower than 1 (measured: 0.25 vs 5 tokens/s at load 15 on
    2 cores, docs/local-model.md)."""
    cores = os.cpu_count() or 1
    return max(1, min(cores, round(cores - os.getloadavg()[0])))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(base_url: str, timeout: float = 2.0) -> bool:
    """True when ``GET {base_url}/models`` returns 200."""
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


def _is_our_process(info: ServerInfo) -> bool:
    try:
        p = psutil.Process(info.pid)
        if abs(p.create_time() - info.create_time) > 1.0 or p.status() == psutil.STATUS_ZOMBIE:
            return False
        cmd = p.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return "llama_cpp.server" in cmd and str(info.port) in cmd and info.model_file in cmd


def recorded() -> ServerInfo | None:
    """The recorded server if its process is still the one we started, else None (a stale record is removed)."""
    f = state_file()
    if not f.is_file():
        return None
    try:
        info = ServerInfo(**json.loads(f.read_text()))
    except (ValueError, TypeError):
        f.unlink(missing_ok=True)
        return None
    if not _is_our_process(info):
        f.unlink(missing_ok=True)
        return None
    return info


def serve(
    name: str = DEFAULT_MODEL,
    *,
    port: int | None = None,
    n_ctx: int = N_CTX,
    n_threads: int | None = None,
    niceness: int = 10,
    wait_s: float = 300.0,
) -> ServerInfo:
    """Start the server for the verified weights ``name`` (or return the running one); raises on failure.

    A recorded server of ours that does not answer (llama.cpp does not answer while it generates) is waited
    for up to ``wait_s`` seconds, never replaced by a second one.

    Raises ``WeightsError`` when the weights are missing or corrupt, ``ServerError`` when llama-cpp-python
    is not installed or the server (new or recorded) does not answer within ``wait_s`` seconds.
    """
    spec = get_spec(name)
    running = recorded()
    if running is not None:
        if running.model != name:
            raise ServerError(
                f"a server for {running.model} is already running (PID {running.pid}, port {running.port}); "
                "stop it first with `peerpres local-model stop`."
            )
        # Ours and alive (recorded() checked PID, start time and command line). llama.cpp's server does not
        # answer /v1/models while it generates, so a busy server is waited for, never replaced: a second server
        # would overwrite the record and leave the first one running where `stop` can no longer reach it.
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if answers(running.base_url):
                return running
            if recorded() is None:
                break  # it exited meanwhile: start a new one below
            time.sleep(0.5)
        else:
            raise ServerError(
                f"the local server (PID {running.pid}, port {running.port}) is running but did not answer within "
                f"{wait_s:.0f} s (busy with a long generation, or hung); wait, or stop it with `peerpres local-model stop`."
            )
    path = verify(model_path(name), spec)
    if not llama_cpp_available():
        raise ServerError(
            "llama-cpp-python with its [server] extra is not installed in this environment: "
            "run `bash scripts/setup_local_model.sh` (builds it once, then reuses the cached wheel)."
        )
    port = port or free_port()
    threads = n_threads or idle_cores()
    log_file = cache_dir() / "server.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", name,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads),
    ]
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=(lambda: os.nice(niceness)) if niceness else None,  # noqa: PLW1509 (no threads yet)
        )
    info = ServerInfo(
        pid=proc.pid, create_time=psutil.Process(proc.pid).create_time(), port=port, model=name,
        model_file=str(path), n_ctx=n_ctx, n_threads=threads, log_file=str(log_file),
    )
    state_file().write_text(json.dumps(asdict(info)))
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            state_file().unlink(missing_ok=True)
            raise ServerError(f"the llama.cpp server exited with code {proc.returncode}; see {log_file}:\n{_tail(log_file)}")
        if answers(info.base_url):
            return info
        time.sleep(0.5)
    stop()
    raise ServerError(f"the llama.cpp server did not answer within {wait_s:.0f} s; see {log_file}.")


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop(timeout: float = 15.0) -> ServerInfo | None:
    """Stop the recorded server (only if its PID is still that process). Returns what was stopped, or None."""
    info = recorded()
    if info is None:
        return None
    p = psutil.Process(info.pid)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout)
    except psutil.TimeoutExpired:
        p.kill()
        p.wait(5)
    state_file().unlink(missing_ok=True)
    return info


def status() -> dict[str, object]:
    """What is fetched and what is running, as a dict (no network but the local health check)."""
    from .weights import specs

    models = {}
    for name, spec in specs().items():
        path = model_path(name)
        models[name] = {
            "file": str(path),
            "present": path.is_file(),
            "size_ok": path.is_file() and path.stat().st_size == spec.size,
        }
    info = recorded()
    server: dict[str, object] | None = None
    if info is not None:
        server = {**asdict(info), "base_url": info.base_url, "model_string": info.inspect_model,
                  "answers": answers(info.base_url)}
    return {"cache_dir": str(cache_dir()), "llama_cpp_installed": llama_cpp_available(), "models": models,
            "server": server}


__all__ = ["ServerError", "ServerInfo", "WeightsError", "recorded", "serve", "status", "stop"]
