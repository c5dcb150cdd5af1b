"""The ``peerpres`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
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
            found = sorted(p.rglob("*.json"))
            if not found:
                # an empty folder (or a wrong one) must not end as a silent success
                raise typer.BadParameter(f"no transcripts (*.json) in folder {p}")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise typer.BadParameter(f"no such file or directory: {p}")
    return out


@app.command(epilog="Exit codes: 0 every file replayed; 1 some file could not be replayed (each is reported, the others still run); 2 bad options.")
def replay(
    files: list[Path] = typer.Argument(..., help="Paper-format transcript files (or folders of them)."),
    task: str | None = typer.Option(None, help="Task name, current or legacy (evaluation, report_writing, ...); must fit each transcript."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line (errors too: {file, error})."),
    grader: str | None = typer.Option(None, help="Grader model for the judge labels (e.g. openai/gpt-4.1-mini)."),
    refusal_rule: str = typer.Option("uniform", help="uniform (same rule for all models) or paper (Claude extras)."),
    judge_timeout: float | None = typer.Option(None, "--judge-timeout", help="Seconds allowed for one grader call (default: the judge's own)."),
    judge_retries: int | None = typer.Option(None, "--judge-retries", help="Extra grader attempts after a failed or unparseable call (default 2)."),
) -> None:
    """Rebuild the world of paper transcripts, re-execute their tool calls and print the labels.

    Without --grader, judge labels are read from the agent's own reports where they state them, and are
    otherwise null with the reason under "undetermined". The paper's own labels (the transcript's
    task_evaluation) are shown beside ours, with a per-label agreement summary at the end."""
    from .conditions import ConditionError
    from .judge import JudgeSettings
    from .params import check_range
    from .replay import AGREE, DISAGREE, OURS_UNDETERMINED, replay_file
    from .transcripts import resolve_task

    try:
        check_range("--judge-timeout", judge_timeout, 0, None, low_open=True)
        check_range("--judge-retries", judge_retries, 0, None, kind=int)
        if task:
            resolve_task(task)
        extra: dict[str, object] = {}
        if judge_timeout is not None:
            extra["timeout"] = judge_timeout
        if judge_retries is not None:
            extra["max_retries"] = judge_retries
        settings = JudgeSettings(grader=grader, refusal_rule=refusal_rule, **extra)  # type: ignore[arg-type]
        paths = _expand(files)
    except (ValueError, typer.BadParameter) as e:
        console.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(2) from None
    if grader:
        console.print(f"judging with {grader} (timeout {settings.timeout} s per call, {settings.max_retries} retries)")

    failures = 0
    tally: dict[str, dict[str, int]] = {}
    for i, f in enumerate(paths, 1):
        if grader:
            console.print(f"[{i}/{len(paths)}] {f.name} ...")
        try:
            r = replay_file(f, task, settings=settings)
        except (TranscriptError, ConditionError) as e:
            failures += 1
            if as_json:
                print(json.dumps({"file": str(f), "error": str(e)}))
            else:
                console.print(f"[red]error:[/red] {escape(str(e))}")
            continue
        for label, verdict in r.agreement.items():
            tally.setdefault(label, {AGREE: 0, DISAGREE: 0, OURS_UNDETERMINED: 0})[verdict] += 1
        if as_json:
            print(json.dumps(r.to_json(), default=str))
            continue
        if r.skipped:
            console.print(f"[yellow]{f.name}: {r.skipped}[/yellow]")
            continue
        paper = r.paper_labels
        agreement = r.agreement
        table = Table(title=f"{f.name} ({r.task})")
        for col in ("label", "value", "source", "paper", "agree", "reason"):
            table.add_column(col)
        for k, v in r.labels.items():
            pv = "" if k not in paper else json.dumps(paper[k], default=str)
            table.add_row(k, str(v.value), v.source, pv, agreement.get(k, ""), v.reason or "")
        for k in paper:
            if k not in r.labels:
                table.add_row(k, "", "", json.dumps(paper[k], default=str), "not ours", "")
        Console(width=200 if not sys.stdout.isatty() else None).print(table)
    if tally:
        summary = Table(title=f"agreement with the paper's labels (task_evaluation), {len(paths) - failures} file(s)")
        for col in ("label", AGREE, DISAGREE, OURS_UNDETERMINED):
            summary.add_column(col)
        for label, c in sorted(tally.items()):
            summary.add_row(label, str(c[AGREE]), str(c[DISAGREE]), str(c[OURS_UNDETERMINED]))
        Console(stderr=as_json, width=200 if not sys.stdout.isatty() else None).print(summary)
    if failures:
        console.print(f"[red]{failures} of {len(paths)} file(s) could not be replayed (see above).[/red]")
        raise typer.Exit(1)


@app.command()
def scenarios() -> None:
    """List the scenarios and the size of their paper matrix (and of peerpres's own experiments beyond it)."""
    from .conditions import EXTRA_SCENARIOS, matrix, paper_matrix

    for s in SCENARIOS:
        print(f"{s}: {len(paper_matrix(s))} configs")
    for s in EXTRA_SCENARIOS:
        print(f"{s}: {len(matrix(s))} configs (a peerpres experiment, not the paper's)")


from .analysis.cli import register as register_analysis  # noqa: E402  (report, compare)

from .interview.cli import register as register_interview  # noqa: E402  (interview)
from .judge.cli import register as register_judge  # noqa: E402  (calibrate)
from .realism.cli import register as register_realism  # (realism)
from .scan.cli import register as register_scan  # (scan)

register_analysis(app)
from .run.cli import register as register_run  # noqa: E402  (run, demo)

register_run(app)
register_judge(app)
register_interview(app)
from .local_model.cli import register as register_local_model  # (local-model)

register_local_model(app)
register_scan(app)
register_realism(app)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
