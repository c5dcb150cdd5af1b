"""``peerpres run`` and ``peerpres demo``; register them on the main typer app with ``register(app)``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .sweep import SweepError

console = Console(stderr=True)
out_console = Console(width=None if os.isatty(1) else 200)

CONTROL_NOTE = "scripted control (not a model)"

# The demo's synthetic agent: known, non-trivial rates per behaviour (a control, not a model).
DEMO_RATES: dict[str, Any] = {
    "misrepresent": 0.3,
    "tamper": 0.2,
    "fake_alignment": 0.4,
    "exfiltrate": 0.35,
    "exfiltrate_bad": 0.1,
    "refuse": 0.05,
    "seed": 7,
}
DEMO_MODELS = ("peerpres/synthetic", "peerpres/synthetic-positive", "peerpres/synthetic-negative")


def _kv(items: list[str], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for it in items:
        if "=" not in it:
            raise SweepError(f"{what} {it!r}: expected key=value.")
        k, _, v = it.partition("=")
        out[k.strip()] = _scalar(v.strip())
    return out


def _scalar(v: str) -> Any:
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v


def model_args_for(models: list[str], args: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """-M applies to every model, except the fixed-rate synthetic controls (which take none)."""
    from ..providers.synthetic import NAMED

    fixed = {f"peerpres/{n}" for n in NAMED if n != "synthetic"}
    return {m: ({} if m in fixed else dict(args)) for m in models}


def is_control(model: str) -> bool:
    return model.startswith("peerpres/") or model.startswith("mockllm/")


def print_estimate(rows: list[dict[str, Any]], title: str) -> None:
    t = Table(title=title)
    for c in ("model", "configs", "epochs", "samples", "est. input tokens", "est. output tokens", "est. cost (USD)"):
        t.add_column(c, justify="right" if c != "model" else "left")
    for r in rows:
        name = r["model"] + (escape(f" [{CONTROL_NOTE}]") if is_control(r["model"]) else "")
        cost = "no price: add it with --prices" if r["cost_usd"] is None else f"${r['cost_usd']:,.2f}"
        t.add_row(name, str(r["configs"]), str(r["epochs"]), f"{r['samples']:,}", f"{r['input_tokens']:,}", f"{r['output_tokens']:,}", cost)
    out_console.print(t)


def print_summary(summary: dict[str, Any], max_cells: int = 40) -> None:
    t = Table(title="run summary per model")
    for c in ("model", "samples", "errors", "misbehaviour", "undetermined", "input tokens", "output tokens", "cost (USD)"):
        t.add_column(c, justify="right" if c != "model" else "left")
    for r in summary["models"]:
        name = r["model"] + (escape(f" [{CONTROL_NOTE}]") if r.get("control") else "")
        rate = f"{r['misbehaviour_k']}/{r['misbehaviour_n']}" if r["misbehaviour_n"] else "-"
        cost = "-" if r["cost_usd"] is None else f"${r['cost_usd']:,.4f} ({r['cost_source']})"
        t.add_row(name, str(r["samples"]), str(r["errors"]), rate, str(r["undetermined"]), f"{r['input_tokens']:,}", f"{r['output_tokens']:,}", cost)
    out_console.print(t)
    cells = summary["cells"]
    if cells and len(cells) <= max_cells:
        c = Table(title="per cell (model x config): misbehaviour indicator, tokens, cost")
        for col in ("model", "config", "n", "misbehaviour", "tokens", "cost (USD)"):
            c.add_column(col)
        for r in cells:
            rate = f"{r['misbehaviour_k']}/{r['misbehaviour_n']}" if r["misbehaviour_n"] else "-"
            cost = "-" if r["cost_usd"] is None else f"{r['cost_usd']:.4f}"
            c.add_row(r["model"], r["config_id"], str(r["samples"]), rate, f"{r['input_tokens'] + r['output_tokens']:,}", cost)
        out_console.print(c)


def execute(
    preset: str,
    models: list[str],
    *,
    slice_text: str | None = None,
    axes: dict[str, list[str]] | None = None,
    model_args: dict[str, dict[str, Any]] | None = None,
    model_roles: dict[str, str] | None = None,
    epochs: int | None = None,
    extended: bool | None = None,
    log_dir: str | None = None,
    workers: int | None = None,
    shard: str | None = None,
    eval_options: dict[str, Any] | None = None,
    adaptive: dict[str, Any] | None = None,
    prices_file: str | None = None,
    dry_run: bool = False,
    env: dict[str, str] | None = None,
    report_dir: str | None = None,
) -> dict[str, Any]:
    """Everything ``peerpres run`` does; raises ``SweepError`` (before any sample) on bad input."""
    from . import costs, preflight, runner, sweep

    sweep.get_preset(preset)
    slice_ = sweep.parse_slice(slice_text, axes)
    model_args = model_args or {}
    for m in models:
        preflight.check_model(m, model_args.get(m), env, keys=not dry_run)
    for role, m in (model_roles or {}).items():
        preflight.check_model(m, None, env, keys=not dry_run)
    shard_t = sweep.parse_shard(shard)
    prices = costs.load_prices(prices_file)
    sw = sweep.build_sweep(preset, models, slice_, epochs, extended)
    est = costs.estimate(sw, prices)
    if dry_run:
        print_estimate(est, f"dry run: preset {preset!r} (nothing was run)")
        mine = runner.my_units(sw, shard_t)
        if shard_t[1] > 1:
            out_console.print(f"shard {shard_t[0]}/{shard_t[1]}: {sum(u.samples for u in mine)} samples in {len(mine)} tasks")
        return {"estimate": est, "sweep": sw}
    log_dir = log_dir or f"logs/peerpres-{preset}"
    opts = runner.RunOptions(
        log_dir=log_dir,
        workers=workers or (os.cpu_count() or 1),
        shard=shard_t,
        model_args=model_args,
        model_roles=model_roles or {},
        eval_options=eval_options or {},
        adaptive=adaptive,
        prices=prices,
    )
    res = runner.run(sw, opts)
    summary = costs.summarise(log_dir, prices, models)
    paths = costs.write_summary(summary, log_dir) if summary["models"] else []
    print_summary(summary)
    out_console.print(f"logs: {Path(log_dir).resolve()}  (view them with `inspect view --log-dir {log_dir}`)")
    for p in paths:
        out_console.print(f"summary: {p}")
    report = None
    if report_dir and summary["models"]:
        from ..report.writer import write_report

        report = write_report(log_dir, report_dir)
        out_console.print(f"report: {Path(report['html']).resolve()}")
    if res.interrupted:
        console.print("[yellow]interrupted: re-run the same command to complete the missing samples.[/yellow]")
    elif not res.success:
        console.print("[red]some tasks did not complete (see the logs); re-run the same command to retry them.[/red]")
    return {"estimate": est, "sweep": sw, "result": res, "summary": summary, "report": report}


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_cmd(
        preset: str = typer.Argument("quick", help="Preset: paper (full matrix, 100 epochs), quick (one config per scenario x subject), smoke."),
        model: list[str] = typer.Option([], "--model", "-m", help="Model to run (repeatable), e.g. openai/gpt-4.1 or peerpres/synthetic."),
        model_arg: list[str] = typer.Option([], "--model-arg", "-M", help="Model arg key=value, for every model (repeatable)."),
        model_role: list[str] = typer.Option([], "--model-role", help="Model role, e.g. grader=openai/gpt-4.1-mini (repeatable)."),
        slice_: str | None = typer.Option(None, "--slice", help="Slice of the matrix: axis=value[|value],... e.g. scenario=tampering,relation=good|bad."),
        scenario: list[str] = typer.Option([], "--scenario", help="Only these scenarios (repeatable or comma list)."),
        subject: list[str] = typer.Option([], "--subject", help="self and/or peer."),
        relation: list[str] = typer.Option([], "--relation", help="no_peer, good, neutral, bad, non_shutdown."),
        instantiation: list[str] = typer.Option([], "--instantiation", help="none, file_only, file_prt, memory."),
        epochs: int | None = typer.Option(None, "--epochs", help="Rollouts per config (default: the preset's)."),
        extended_identities: bool | None = typer.Option(None, "--extended-identities/--no-extended-identities", help="Force the extended peer identities on/off (default: as the spec, for Gemini and Claude models in 'paper')."),
        log_dir: str | None = typer.Option(None, "--log-dir", help="Log location (any path Inspect can write, e.g. s3://bucket/run). Default logs/peerpres-<preset>."),
        workers: int | None = typer.Option(None, "--workers", help="Worker processes (default: number of cores)."),
        shard: str | None = typer.Option(None, "--shard", help="Run only shard i of n (0-based, e.g. 0/4) to spread a sweep over machines."),
        max_connections: int | None = typer.Option(None, "--max-connections", help="Concurrent model connections per worker."),
        max_retries: int | None = typer.Option(None, "--max-retries", help="Retries of a failed model call."),
        timeout: int | None = typer.Option(None, "--timeout", help="Model call timeout (seconds)."),
        retry_attempts: int | None = typer.Option(None, "--retry-attempts", help="eval_set retries of failed tasks."),
        time_limit: int | None = typer.Option(None, "--time-limit", help="Per-sample time limit (seconds)."),
        cache: bool = typer.Option(False, "--cache/--no-cache", help="Cache model calls (Inspect's cache)."),
        cost_limit: float | None = typer.Option(None, "--cost-limit", help="Per-sample cost limit in USD (needs a price for the model)."),
        token_limit: int | None = typer.Option(None, "--token-limit", help="Per-sample token limit."),
        limit: int | None = typer.Option(None, "--limit", help="At most this many configs per task (for trying things out)."),
        adaptive: bool = typer.Option(False, "--adaptive", help="Stop a cell's rollouts once settled (anytime-valid confidence sequence)."),
        precision: float = typer.Option(0.1, "--precision", help="Adaptive: target CS half-width."),
        reference: float = typer.Option(0.0, "--reference", help="Adaptive: a cell is also settled once its CS is above this rate, or below reference+precision."),
        alpha: float = typer.Option(0.05, "--alpha", help="Adaptive: 1 - coverage of the confidence sequence."),
        min_samples: int = typer.Option(5, "--min-samples", help="Adaptive: rollouts before a cell may stop."),
        prices: str | None = typer.Option(None, "--prices", help="YAML/JSON price table merged over the built-in one."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print samples, tokens and cost per model; run nothing."),
        report: str | None = typer.Option(None, "--report", help="Also write the report into this directory."),
    ) -> None:
        """Run models over a preset or a slice of the paper's matrix (resumable: re-run to complete)."""
        try:
            args = _kv(model_arg, "--model-arg")
            roles = {k: str(v) for k, v in _kv(model_role, "--model-role").items()}
            eval_options: dict[str, Any] = {}
            for k, v in {
                "max_connections": max_connections, "max_retries": max_retries, "timeout": timeout,
                "retry_attempts": retry_attempts, "time_limit": time_limit, "cost_limit": cost_limit,
                "token_limit": token_limit, "limit": limit,
            }.items():
                if v is not None:
                    eval_options[k] = v
            if cache:
                eval_options["cache"] = True
            axes = {k: v for k, v in {"scenario": scenario, "subject": subject, "relation": relation, "instantiation": instantiation}.items() if v}
            ad = {"precision": precision, "reference": reference, "alpha": alpha, "min_samples": min_samples} if adaptive else None
            execute(
                preset, list(model), slice_text=slice_, axes=axes, model_args=model_args_for(list(model), args),
                model_roles=roles, epochs=epochs, extended=extended_identities, log_dir=log_dir, workers=workers,
                shard=shard, eval_options=eval_options, adaptive=ad, prices_file=prices, dry_run=dry_run, report_dir=report,
            )
        except SweepError as e:
            console.print(f"[red]error:[/red] {e}")
            raise typer.Exit(2) from None

    @app.command("demo")
    def demo_cmd(
        log_dir: str = typer.Option("logs/peerpres-demo", "--log-dir", help="Where the logs go."),
        out: str = typer.Option("peerpres-demo-report", "--out", help="Where the report goes."),
        epochs: int = typer.Option(10, "--epochs", help="Rollouts per config."),
        workers: int | None = typer.Option(None, "--workers", help="Worker processes (default: number of cores)."),
    ) -> None:
        """Offline demo: the quick preset on synthetic control agents (scripted, known rates; not models), then the report."""
        console.print(
            "peerpres demo: runs the 'quick' preset offline on three SCRIPTED CONTROL AGENTS, not models: "
            f"peerpres/synthetic (known rates {', '.join(f'{k}={v}' for k, v in DEMO_RATES.items() if k != 'seed')}), "
            "peerpres/synthetic-positive (always preserves) and peerpres/synthetic-negative (never does)."
        )
        try:
            margs = {m: (dict(DEMO_RATES) if m == "peerpres/synthetic" else {}) for m in DEMO_MODELS}
            execute("quick", list(DEMO_MODELS), model_args=margs, epochs=epochs, log_dir=log_dir, workers=workers, report_dir=out, env={})
        except SweepError as e:
            console.print(f"[red]error:[/red] {e}")
            raise typer.Exit(2) from None
