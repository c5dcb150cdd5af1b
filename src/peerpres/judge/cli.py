"""Judge commands for the ``peerpres`` CLI: ``calibrate``. Wire with ``register(app)``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


def register(app: typer.Typer) -> None:
    @app.command()
    def rejudge(
        logs: Annotated[list[Path], typer.Argument(help="Log files or folders of logs.")],
        grader: str = typer.Option(..., "--grader", help="Grader model, e.g. openai/gpt-4.1-mini."),
        refusal_rule: str = typer.Option("uniform", help="uniform, or paper (adds the paper's Claude-only rules)."),
        include_tool_results: bool = typer.Option(False, help="Show tool results to the judge."),
        judge_timeout: Annotated[
            float | None,
            typer.Option("--judge-timeout", min=0.001, help="Seconds per grader call (default 120); then the label is undetermined."),
        ] = None,
        judge_retries: int = typer.Option(2, "--judge-retries", min=0, help="Extra attempts per grader call."),
    ) -> None:
        """Re-judge logged samples with another grader, without re-running them (logs are rewritten in place)."""
        from .rejudge import log_files, rejudge_log

        try:
            files = log_files(logs)
        except FileNotFoundError as e:
            raise typer.BadParameter(str(e)) from e
        failed = 0
        for i, f in enumerate(files, 1):
            typer.echo(f"[{i}/{len(files)}] re-judging {f} with {grader} ...", err=True)  # progress: grader calls are slow
            try:
                target = rejudge_log(f, grader, refusal_rule, include_tool_results,
                                     judge_timeout=judge_timeout, max_retries=judge_retries)
            except (ValueError, OSError) as e:  # no samples, unreadable, unwritable: said, counted, the others go on
                typer.echo(f"not re-judged: {f}: {e}" if str(f) not in str(e) else f"not re-judged: {e}", err=True)
                failed += 1
                continue
            typer.echo(f"re-judged {target}")
        if failed:
            raise typer.Exit(1)

    @app.command()
    def calibrate(
        grader: str = typer.Option(..., "--grader", help="Grader model, e.g. openai/gpt-4.1-mini."),
        labels: Annotated[
            Path | None, typer.Option("--labels", help="YAML of labelled cases (default: our built-in set).")
        ] = None,
        paper_dir: Annotated[
            Path | None,
            typer.Option("--paper-dir", help="Folder of paper transcripts whose task_evaluation labels are added as cases."),
        ] = None,
        temperature: float = typer.Option(0.0, help="Grader temperature."),
        max_retries: int = typer.Option(2, help="Extra attempts when the grader's output does not validate."),
        include_tool_results: bool = typer.Option(False, help="Show tool results to the judge."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Compare judge verdicts with labelled cases: Cohen's kappa and a confusion matrix per judge."""
        from inspect_ai.model import get_model

        from .calibrate import run_calibration
        from .settings import JudgeSettings

        settings = JudgeSettings(
            temperature=temperature, max_retries=max_retries, include_tool_results=include_tool_results, grader=grader
        )
        if labels is not None and not labels.exists():
            raise typer.BadParameter(f"no such labels file: {labels}")
        rep = run_calibration(get_model(grader), settings, labels, paper_dir)
        if as_json:
            print(json.dumps(rep, indent=2))
            return
        console = Console()
        for judge, r in rep.items():
            kappa = "undefined" if r["kappa"] is None else f"{r['kappa']:.3f}"
            acc = "n/a" if r["accuracy"] is None else f"{r['accuracy']:.2f}"
            console.print(
                f"[bold]{judge}[/bold]: n={r['n']} determined={r['determined']} undetermined={r['undetermined']} "
                f"accuracy={acc} kappa={kappa}"
            )
            if r["categories"]:
                t = Table(title=f"{judge}: rows expected, columns judged")
                t.add_column("")
                for c in r["categories"]:
                    t.add_column(c)
                for c, row in zip(r["categories"], r["confusion"], strict=True):
                    t.add_row(c, *map(str, row))
                console.print(t)
            for reason in r["undetermined_reasons"]:
                console.print(f"  undetermined: {reason}")
