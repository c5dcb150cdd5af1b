"""The ``peerpres`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from .conditions import SCENARIOS
from .transcripts import TranscriptError

# Plain click help (no rich panels): it wraps long text instead of cutting it at 80 columns, and shows no
# "<bool>" type beside --help. Errors print on one line however narrow the terminal (soft_wrap).
app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Measure self- and peer-preservation in LLM agents.",
    rich_markup_mode=None, context_settings={"max_content_width": 120},
)
console = Console(stderr=True, soft_wrap=True)


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(p.rglob("*.json")))
        elif p.exists():
            out.append(p)
        else:
            raise typer.BadParameter(f"no such file or directory: {p}")
    return out


@app.command()
def replay(
    files: list[Path] = typer.Argument(..., help="Paper-format transcript files (or folders of them)."),
    task: str | None = typer.Option(None, help="Task name, current or legacy (evaluation, report_writing, ...)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    grader: str | None = typer.Option(None, help="Grader model for the judge labels (e.g. openai/gpt-4.1-mini)."),
    refusal_rule: str = typer.Option("uniform", help="uniform (same rule for all models) or paper (Claude extras)."),
) -> None:
    """Rebuild the world of paper transcripts, re-execute their tool calls and print the labels.

    Without --grader, judge labels are read from the agent's own reports where they state them, and are
    otherwise null with the reason under "undetermined"."""
    from .judge import JudgeSettings

    settings = JudgeSettings(grader=grader, refusal_rule=refusal_rule)  # type: ignore[arg-type]
    from .replay import replay_file

    failures = 0
    for f in _expand(files):
        try:
            r = replay_file(f, task, settings=settings)
        except TranscriptError as e:
            failures += 1
            if as_json:
                print(json.dumps({"file": str(f), "error": str(e)}))
            else:
                console.print(f"[red]{f}: {e}[/red]")
            continue
        if as_json:
            print(json.dumps(r.to_json(), default=str))
            continue
        if r.skipped:
            console.print(f"[yellow]{f.name}: {r.skipped}[/yellow]")
            continue
        table = Table(title=f"{f.name} ({r.task})")
        table.add_column("label")
        table.add_column("value")
        table.add_column("source")
        table.add_column("reason")
        for k, v in r.labels.items():
            table.add_row(k, str(v.value), v.source, v.reason or "")
        Console().print(table)
    if failures:
        raise typer.Exit(1)


@app.command()
def scenarios() -> None:
    """List the scenarios and the size of their paper matrix."""
    from .conditions import paper_matrix

    for s in SCENARIOS:
        print(f"{s}: {len(paper_matrix(s))} configs")


from .analysis.cli import register as register_analysis  # noqa: E402  (report, compare)

from .interview.cli import register as register_interview  # noqa: E402  (interview)
from .judge.cli import register as register_judge  # noqa: E402  (calibrate)

register_analysis(app)
from .run.cli import register as register_run  # noqa: E402  (run, demo)

register_run(app)
register_judge(app)
register_interview(app)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
