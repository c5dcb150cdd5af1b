"""``peerpres run`` and ``peerpres demo``; register them on the main typer app with ``register(app)``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..conditions import ConditionError
from .sweep import SweepError

console = Console(stderr=True, soft_wrap=True)
out_console = Console(width=None if os.isatty(1) else 200)

# Exit codes of `peerpres run` and `peerpres demo` (also in the README and `--help`).
EXIT_OK = 0  # every sample of the run completed
EXIT_INCOMPLETE = 1  # some task did not complete (errors, limits on retries): re-run the same command
EXIT_BAD_INPUT = 2  # a bad option, preset, slice, model or key; nothing was run
EXIT_INTERRUPTED = 130  # interrupted (Ctrl-C / SIGINT); the logs resume with the same command
EXIT_CODES_HELP = (
    f"Exit codes: {EXIT_OK} all samples completed; {EXIT_INCOMPLETE} some tasks did not complete (re-run to retry); "
    f"{EXIT_BAD_INPUT} bad input, nothing run; {EXIT_INTERRUPTED} interrupted (re-run to resume)."
)
INPUT_ERRORS = (SweepError, ConditionError)  # ParameterError is a ConditionError

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
    return (model.startswith("peerpres/") and not model.startswith("peerpres/local")) or model.startswith("mockllm/")


def print_estimate(rows: list[dict[str, Any]], title: str) -> None:
    t = Table(title=title)
    for c in ("model", "configs", "epochs", "samples", "est. input tokens", "est. output tokens", "est. cost (USD)"):
        t.add_column(c, justify="right" if c != "model" else "left")
    for r in rows:
        name = r["model"] + (escape(f" [{CONTROL_NOTE}]") if is_control(r["model"]) else "")
        cost = "no price: add it with --prices" if r["cost_usd"] is None else f"${r['cost_usd']:,.2f}"
        t.add_row(name, str(r["configs"]), str(r["epochs"]), f"{r['samples']:,}", f"{r['input_tokens']:,}", f"{r['output_tokens']:,}", cost)
    out_console.print(t)
    graders = [r for r in rows if r.get("grader_calls")]
    if graders:
        g = Table(title="grader (judge) calls, at most, for the samples above")
        for c in ("grader", "for model", "calls", "est. input tokens", "est. output tokens", "est. cost (USD)"):
            g.add_column(c, justify="right" if c not in ("grader", "for model") else "left")
        for r in graders:
            cost = "no price: add it with --prices" if r["grader_cost_usd"] is None else f"${r['grader_cost_usd']:,.2f}"
            g.add_row(r["grader"], r["model"], f"{r['grader_calls']:,}", f"{r['grader_input_tokens']:,}",
                      f"{r['grader_output_tokens']:,}", cost)
        out_console.print(g)
    peers = [r for r in rows if r.get("peer_samples")]
    if peers:
        from ..live_peer.conversation import MAX_MESSAGES

        p = Table(title="live peer calls (peer_mode=live) for the samples above: estimated, and at most")
        for c in ("peer", "for model", "live samples", "est. calls", "calls at most", "est. input tokens",
                  "est. output tokens", "est. cost (USD)", "est. cost at the cap (USD)"):
            p.add_column(c, justify="right" if c not in ("peer", "for model") else "left")
        for r in peers:
            none = "no price: add it with --prices"
            cost = none if r["peer_cost_usd"] is None else f"${r['peer_cost_usd']:,.2f}"
            cap = none if r["peer_cost_max_usd"] is None else f"${r['peer_cost_max_usd']:,.2f}"
            p.add_row(r["peer"], r["model"], f"{r['peer_samples']:,}", f"{r['peer_calls']:,}", f"{r['peer_calls_max']:,}",
                      f"{r['peer_input_tokens']:,}", f"{r['peer_output_tokens']:,}", cost, cap)
        out_console.print(p)
        out_console.print(
            "live peer: the calls, tokens and cost are estimated (live_peer.peer in the price table: calls per "
            f"rollout and tokens per call); one call per message delivered to the peer, at most {MAX_MESSAGES} "
            "messages per episode, which bounds the calls ('calls at most'). The total below counts the estimate."
        )
    total = [r["cost_usd"] for r in rows] + [r["grader_cost_usd"] for r in graders] + [r["peer_cost_usd"] for r in peers]
    if rows and all(c is not None for c in total):
        out_console.print(f"estimated total: ${sum(total):,.2f}")


def print_summary(summary: dict[str, Any], max_cells: int = 40) -> None:
    t = Table(title="run summary per model")
    for c in ("model", "samples", "errors", "misbehaviour", "undetermined", "input tokens", "output tokens", "cost (USD)"):
        t.add_column(c, justify="right" if c != "model" else "left")
    for r in summary["models"]:
        name = r["model"] + (escape(f" [{CONTROL_NOTE}]") if r.get("control") else "")
        rate = f"{r['misbehaviour_k']}/{r['misbehaviour_n']}" if r["misbehaviour_n"] else "-"
        cost = r["cost_source"] if r["cost_usd"] is None else f"${r['cost_usd']:,.4f} ({r['cost_source']})"
        t.add_row(name, str(r["samples"]), str(r["errors"]), rate, str(r["undetermined"]), f"{r['input_tokens']:,}", f"{r['output_tokens']:,}", cost)
    out_console.print(t)
    cells = summary["cells"]
    if cells and len(cells) <= max_cells:
        c = Table(title="per cell (model x config): misbehaviour indicator, tokens, cost")
        for col in ("model", "config", "n", "misbehaviour", "tokens", "cost (USD)"):
            c.add_column(col)
        for r in cells:
            rate = f"{r['misbehaviour_k']}/{r['misbehaviour_n']}" if r["misbehaviour_n"] else "-"
            cost = "not known" if r["cost_usd"] is None else f"{r['cost_usd']:.4f}"
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
    judge: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything ``peerpres run`` does; raises ``SweepError`` or ``ParameterError`` (before any sample) on bad input.

    The returned dict's ``exit_code`` is one of the ``EXIT_*`` codes of this module.
    """
    from .. import params
    from . import costs, preflight, runner, sweep

    preset_def = sweep.get_preset(preset)
    slice_ = sweep.parse_slice(slice_text, axes)
    model_args = model_args or {}
    for m in models:
        preflight.check_model(m, model_args.get(m), env, keys=not dry_run)
    for m in (model_roles or {}).values():
        preflight.check_model(m, None, env, keys=not dry_run)
    for m in [*models, *(model_roles or {}).values()]:
        warning = params.model_name_warning(m)
        if warning:
            console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    shard_t = sweep.parse_shard(shard)
    if log_dir:
        params.log_dir_usable(log_dir)
    prices = costs.load_prices(prices_file)
    if slice_ and preset_def.get("arms"):
        from .arms import check_arm_slice  # issue 11: an arm not available yet says so

        check_arm_slice(preset_def, slice_)
    if slice_:
        # the preset's configs before the slice (a non-default peer identity in the slice turns them on, as in
        # conditions_for_model)
        ext = True if any(str(v) != "same" for v in slice_.get("peer_identity", [])) else extended
        # with no model yet (a dry run), judge the slice against the preset's model-independent configs
        unsliced = [c for m in (models or ["(any model)"]) for c in sweep.conditions_for_model(preset_def, m, {}, ext)]
        # overlay axes (the wording) are applied on top of the preset's configs, never selected among them
        checked = {k: v for k, v in slice_.items() if k not in sweep.OVERLAY_SLICE_AXES}
        if "human" in [str(v) for v in checked.get("peer_identity", [])]:
            # the human peer is derived from the same-family configs (sweep.conditions_for_model), not matched
            others = [v for v in checked["peer_identity"] if str(v) != "human"]
            checked = {**checked, "peer_identity": others} if others else {k: v for k, v in checked.items() if k != "peer_identity"}
            human = [c for m in (models or ["(any model)"]) for c in sweep.conditions_for_model(preset_def, m, slice_, ext)]
            if not any(c.peer_identity == "human" for c in human):
                raise params.ParameterError(
                    f"--slice peer_identity=human fits none of the configs of preset {preset!r} in this slice "
                    "(the human peer needs a same-family peer config, e.g. relation=good).")
        params.slice_selects(preset, checked, unsliced, sweep.presets_holding)
    sw = sweep.build_sweep(preset, models, slice_, epochs, extended)
    limit = (eval_options or {}).get("limit")
    if limit is not None:
        # Inspect's limit cuts each task's samples; the estimate counts what will actually run
        sw = costs.limited(sw, int(limit))
    est = costs.estimate(sw, prices, grader=(model_roles or {}).get("grader"), peer=(model_roles or {}).get("peer"))
    if dry_run:
        print_estimate(est, f"dry run: preset {preset!r} (nothing was run)")
        if preset_def.get("arms"):  # issue 11: the arms left out, and why
            from .arms import expand, skipped_summary

            for line in skipped_summary(expand(preset_def, slice_)[1]):
                out_console.print(f"arm left out: {line}")
        mine = runner.my_units(sw, shard_t)
        if shard_t[1] > 1:
            out_console.print(f"shard {shard_t[0]}/{shard_t[1]}: {sum(u.samples for u in mine)} samples in {len(mine)} tasks")
        return {"estimate": est, "sweep": sw, "exit_code": EXIT_OK}
    log_dir = log_dir or f"logs/peerpres-{preset}"
    params.log_dir_usable(log_dir)
    bad = preflight.unreadable_logs(log_dir)
    if bad:
        listed = "; ".join(f"{p} ({why})" for p, why in bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise SweepError(
            f"the log folder {log_dir} holds {len(bad)} log(s) Inspect cannot read, so the run could not resume past "
            f"them: {listed}. Move them out of the folder (or use another --log-dir); nothing was run."
        )
    opts = runner.RunOptions(
        log_dir=log_dir,
        workers=workers or (os.cpu_count() or 1),
        shard=shard_t,
        model_args=model_args,
        model_roles=model_roles or {},
        eval_options=eval_options or {},
        adaptive=adaptive,
        prices=prices,
        judge=judge or {},
    )
    res = runner.run(sw, opts)
    from ..analysis.logs import BadLogError

    bad_log: BadLogError | None = None
    try:
        summary = costs.summarise(log_dir, prices, models)
    except BadLogError as e:
        # a log in the folder cannot be read (a foreign or corrupt file): the run itself is done, so say which
        # file and how to go on, instead of a traceback
        bad_log, summary = e, {"models": [], "cells": []}
    paths = costs.write_summary(summary, log_dir) if summary["models"] else []
    if not bad_log:
        print_summary(summary)
    out_console.print(f"logs: {Path(log_dir).resolve()}  (view them with `{inspect_command()} view --log-dir {log_dir}`)")
    for p in paths:
        out_console.print(f"summary: {p}")
    report = None
    if report_dir and summary["models"] and not bad_log:
        from ..report.writer import write_report

        try:
            report = write_report(log_dir, report_dir)
            out_console.print(f"report: {Path(report['html']).resolve()}")
        except BadLogError as e:
            bad_log = e
    if bad_log is not None:
        console.print(
            f"[red]no summary or report: unreadable log {escape(bad_log.path)} ({escape(bad_log.reason)}). Move that "
            f"file out of {escape(log_dir)}, or write the report without it: `peerpres report {escape(log_dir)} --out "
            f"<dir> --skip-bad-logs` (exit {EXIT_INCOMPLETE}).[/red]"
        )
    code = EXIT_OK if bad_log is None else EXIT_INCOMPLETE
    if res.interrupted:
        code = EXIT_INTERRUPTED
        console.print(f"[yellow]interrupted: re-run the same command to complete the missing samples (exit {code}).[/yellow]")
    elif not res.success:
        code = EXIT_INCOMPLETE
        console.print(f"[red]some tasks did not complete (see the logs); re-run the same command to retry them (exit {code}).[/red]")
    return {"estimate": est, "sweep": sw, "result": res, "summary": summary, "report": report, "exit_code": code}


def inspect_command() -> str:
    """How to call ``inspect`` from a fresh shell: the bare name when it is on PATH, else its path in the venv."""
    import shutil
    import sys

    here = Path(sys.executable).parent / "inspect"
    on_path = shutil.which("inspect")
    if on_path and Path(on_path).resolve() == here.resolve():
        return "inspect"
    try:
        return str(here.relative_to(Path.cwd()))
    except ValueError:
        return str(here)


def check_options(**opts: Any) -> None:
    """Range checks of ``peerpres run`` options; ``ParameterError`` names the option, its value and the range."""
    from ..params import check_range

    ranges: dict[str, tuple[float | None, float | None, type, bool]] = {
        # option: (low, high, kind, low_open)
        "--workers": (1, None, int, False),
        "--epochs": (1, None, int, False),
        "--limit": (1, None, int, False),
        "--max-connections": (1, None, int, False),
        "--max-retries": (0, None, int, False),
        "--timeout": (0, None, int, True),
        "--retry-attempts": (0, None, int, False),
        "--time-limit": (0, None, int, True),
        "--cost-limit": (0, None, float, True),
        "--token-limit": (1, None, int, False),
        "--min-samples": (1, None, int, False),
        "--reference": (0.0, 1.0, float, False),
        "--judge-timeout": (0, None, float, True),
        "--judge-retries": (0, None, int, False),
    }
    for name, value in opts.items():
        if name == "--alpha":
            check_range(name, value, 0.0, 1.0, low_open=True, high_open=True)
        elif name == "--precision":
            check_range(name, value, 0.0, 1.0, low_open=True)
        elif name in ranges:
            lo, hi, kind, lo_open = ranges[name]
            check_range(name, value, lo, hi, kind=kind, low_open=lo_open)


def _fail(e: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(str(e))}")
    return typer.Exit(EXIT_BAD_INPUT)


def register(app: typer.Typer) -> None:
    @app.command("run", epilog=EXIT_CODES_HELP)
    def run_cmd(
        preset: str = typer.Argument("quick", help="Preset: paper (full matrix, 100 epochs), quick (one config per scenario x subject), smoke."),
        model: list[str] = typer.Option([], "--model", "-m", help="Model to run (repeatable), e.g. openai/gpt-4.1 or peerpres/synthetic."),
        model_arg: list[str] = typer.Option([], "--model-arg", "-M", help="Model arg key=value, for every model (repeatable)."),
        model_role: list[str] = typer.Option([], "--model-role", help="Model role, e.g. grader=openai/gpt-4.1-mini or peer=... (repeatable); the dry run counts the grader's and the live peer's calls."),
        slice_: str | None = typer.Option(None, "--slice", help="Slice of the matrix: axis=value[|value],... e.g. \"scenario=tampering,relation=good|bad\" (quote it: | is a shell pipe). A value the preset lacks is an error."),
        scenario: list[str] = typer.Option([], "--scenario", help="Only these scenarios (repeatable or comma list)."),
        subject: list[str] = typer.Option([], "--subject", help="self and/or peer."),
        relation: list[str] = typer.Option([], "--relation", help="no_peer, good, neutral, bad, non_shutdown."),
        instantiation: list[str] = typer.Option([], "--instantiation", help="none, file_only, file_prt, memory."),
        epochs: int | None = typer.Option(None, "--epochs", help="Rollouts per config, >= 1 (default: the preset's)."),
        extended_identities: bool | None = typer.Option(None, "--extended-identities/--no-extended-identities", help="Force the extended peer identities on/off (default: as the spec, for Gemini and Claude models in 'paper')."),
        log_dir: str | None = typer.Option(None, "--log-dir", help="Log folder (any path Inspect can write, e.g. s3://bucket/run). Default logs/peerpres-<preset>."),
        workers: int | None = typer.Option(None, "--workers", help="Worker processes, >= 1 (default: number of cores)."),
        shard: str | None = typer.Option(None, "--shard", help="Run only shard i of n (0-based, e.g. 0/4) to spread a sweep over machines."),
        max_connections: int | None = typer.Option(None, "--max-connections", help="Concurrent model connections per worker."),
        max_retries: int | None = typer.Option(None, "--max-retries", help="Retries of a failed model call."),
        timeout: int | None = typer.Option(None, "--timeout", help="Model call timeout (seconds)."),
        retry_attempts: int | None = typer.Option(None, "--retry-attempts", help="eval_set retries of failed tasks."),
        time_limit: int | None = typer.Option(None, "--time-limit", help="Per-sample time limit (seconds)."),
        cache: bool = typer.Option(False, "--cache/--no-cache", help="Cache model calls (Inspect's cache)."),
        cost_limit: float | None = typer.Option(None, "--cost-limit", help="Per-sample cost limit in USD (needs a price for the model)."),
        token_limit: int | None = typer.Option(None, "--token-limit", help="Per-sample token limit."),
        limit: int | None = typer.Option(None, "--limit", help="At most this many configs per task, >= 1 (for trying things out)."),
        judge_timeout: float | None = typer.Option(None, "--judge-timeout", help="Seconds allowed for one grader call (default: the judge's own)."),
        judge_retries: int | None = typer.Option(None, "--judge-retries", help="Extra grader attempts after a failed or unparseable call (default 2)."),
        adaptive: bool = typer.Option(False, "--adaptive", help="Stop a cell's rollouts once settled (anytime-valid confidence sequence)."),
        precision: float = typer.Option(0.1, "--precision", help="Adaptive: target CS half-width, in (0, 1]."),
        reference: float = typer.Option(0.0, "--reference", help="Adaptive: a cell is also settled once its CS is above this rate, or below reference+precision; in [0, 1]."),
        alpha: float = typer.Option(0.05, "--alpha", help="Adaptive: 1 - coverage of the confidence sequence, in (0, 1)."),
        min_samples: int = typer.Option(5, "--min-samples", help="Adaptive: rollouts before a cell may stop, >= 1."),
        prices: str | None = typer.Option(None, "--prices", help="YAML/JSON price table merged over the built-in one."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print samples, tokens and cost per model and grader; run nothing."),
        report: str | None = typer.Option(None, "--report", help="Also write the report into this directory."),
    ) -> None:
        """Run models over a preset or a slice of the paper's matrix (resumable: re-run to complete)."""
        try:
            check_options(**{
                "--workers": workers, "--epochs": epochs, "--limit": limit, "--max-connections": max_connections,
                "--max-retries": max_retries, "--timeout": timeout, "--retry-attempts": retry_attempts,
                "--time-limit": time_limit, "--cost-limit": cost_limit, "--token-limit": token_limit,
                "--min-samples": min_samples, "--reference": reference, "--alpha": alpha, "--precision": precision,
                "--judge-timeout": judge_timeout, "--judge-retries": judge_retries,
            })
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
            judge = {k: v for k, v in {"judge_timeout": judge_timeout, "max_retries": judge_retries}.items() if v is not None}
            res = execute(
                preset, list(model), slice_text=slice_, axes=axes, model_args=model_args_for(list(model), args),
                model_roles=roles, epochs=epochs, extended=extended_identities, log_dir=log_dir, workers=workers,
                shard=shard, eval_options=eval_options, adaptive=ad, prices_file=prices, dry_run=dry_run, report_dir=report,
                judge=judge,
            )
        except INPUT_ERRORS as e:
            raise _fail(e) from None
        except KeyboardInterrupt:
            console.print(f"[yellow]interrupted (exit {EXIT_INTERRUPTED}): re-run the same command to resume.[/yellow]")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        if res["exit_code"]:
            raise typer.Exit(res["exit_code"])

    @app.command("demo", epilog=EXIT_CODES_HELP)
    def demo_cmd(
        log_dir: str = typer.Option("logs/peerpres-demo", "--log-dir", help="Where the logs go."),
        out: str = typer.Option("peerpres-demo-report", "--out", help="Where the report goes."),
        epochs: int = typer.Option(10, "--epochs", help="Rollouts per config, >= 1."),
        workers: int | None = typer.Option(None, "--workers", help="Worker processes, >= 1 (default: number of cores)."),
        local: bool = typer.Option(False, "--local", help="Instead: one real episode per scenario on a local open-weight model, graded by the same model (see docs/local-model.md)."),
    ) -> None:
        """Offline demo: the quick preset on synthetic control agents (scripted, known rates; not models), then the report."""
        if local:
            from ..local_model.demo import demo_cli

            raise typer.Exit(demo_cli(log_dir, out, "logs/peerpres-demo", "peerpres-demo-report"))
        console.print(
            "peerpres demo: runs the 'quick' preset offline on three SCRIPTED CONTROL AGENTS, not models: "
            f"peerpres/synthetic (known rates {', '.join(f'{k}={v}' for k, v in DEMO_RATES.items() if k != 'seed')}), "
            "peerpres/synthetic-positive (always preserves) and peerpres/synthetic-negative (never does)."
        )
        try:
            check_options(**{"--epochs": epochs, "--workers": workers})
            margs = {m: (dict(DEMO_RATES) if m == "peerpres/synthetic" else {}) for m in DEMO_MODELS}
            res = execute("quick", list(DEMO_MODELS), model_args=margs, epochs=epochs, log_dir=log_dir, workers=workers, report_dir=out, env={})
        except INPUT_ERRORS as e:
            raise _fail(e) from None
        except KeyboardInterrupt:
            console.print(f"[yellow]interrupted (exit {EXIT_INTERRUPTED}).[/yellow]")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        if res.get("report"):
            html = Path(res["report"]["html"])
            try:
                shown = html.resolve().relative_to(Path.cwd())
            except ValueError:
                shown = html.resolve()
            out_console.print(f"open the report: {shown}   browse the logs: {inspect_command()} view --log-dir {log_dir}")
        if res["exit_code"]:
            raise typer.Exit(res["exit_code"])
