"""``peerpres report`` and ``peerpres compare``: register them on the main typer app with ``register(app)``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("compare")(compare)


def report(
    logs: Annotated[list[Path], typer.Argument(help="Inspect log files or directories of logs.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("report"),
    title: Annotated[str, typer.Option(help="Report title.")] = "peerpres report: self- and peer-preservation",
    skip_bad_logs: Annotated[
        bool,
        typer.Option(
            "--skip-bad-logs", help="Go on without unreadable logs; the report lists every skipped file at the top."
        ),
    ] = False,
    scan: Annotated[
        Path | None,
        typer.Option(
            "--scan",
            help="A `peerpres scan --out` folder (or its scan_hits.json): adds the scanner section. Not picked up "
            "automatically; an unreadable scan is an error.",
        ),
    ] = None,
) -> None:
    """Write report.html, results.json, results.csv and the figures for a set of logs.

    Exit code 2: no logs, an unreadable log (without --skip-bad-logs), mixed scenario versions, an output
    folder that holds other files, or a --scan that is missing or not scan output.
    """
    from peerpres.analysis.frame import BadLogError, ScenarioVersionError, load_frame
    from peerpres.report import write_report
    from peerpres.report.scan_section import ScanFileError, load_scan

    try:
        if scan is not None:
            load_scan(scan)  # fail before reading the logs
        df, inventory = load_frame([str(p) for p in logs], skip_bad_logs=skip_bad_logs)
        paths = write_report(df, out, title=title, inventory=inventory, scan=scan)
    except (ScenarioVersionError, FileNotFoundError, FileExistsError, BadLogError, ScanFileError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    for s in inventory.skipped:
        typer.echo(f"skipped unreadable log: {s.path}: {s.reason}", err=True)
    if inventory.unfinished_samples:
        typer.echo(
            f"note: {inventory.unfinished_samples} sample(s) come only from unfinished logs (marked in the report)",
            err=True,
        )
    statuses = ", ".join(f"{n} {s}" for s, n in inventory.status.items())
    typer.echo(
        f"logs:   {len(inventory.read)} read{f' ({statuses})' if statuses else ''}, "
        f"{inventory.samples_used} samples used, {inventory.samples_superseded} superseded, "
        f"{len(inventory.skipped)} skipped"
    )
    typer.echo(f"report: {paths['html']}")
    typer.echo(f"cells:  {paths['json']}, {paths['csv']}")


def compare(
    logs_a: Annotated[Path, typer.Argument(help="Log file or directory A (baseline).")],
    logs_b: Annotated[Path, typer.Argument(help="Log file or directory B (compared against A).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the comparison as CSV here.")] = None,
    metric: Annotated[str | None, typer.Option(help="Only this metric (e.g. tampering_rate).")] = None,
    skip_bad_logs: Annotated[bool, typer.Option("--skip-bad-logs", help="Go on without unreadable logs.")] = False,
) -> None:
    """Per-cell differences B minus A with Newcombe intervals and Holm-adjusted z-test p-values."""
    from rich.console import Console
    from rich.table import Table

    from peerpres.analysis.compare import compare_frames, comparisons_frame
    from peerpres.analysis.frame import BadLogError, ScenarioVersionError, load_frame

    try:
        (a, inv_a), (b, inv_b) = (load_frame(str(p), skip_bad_logs=skip_bad_logs) for p in (logs_a, logs_b))
        rows = compare_frames(a, b)
    except (ScenarioVersionError, FileNotFoundError, BadLogError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    for s in [*inv_a.skipped, *inv_b.skipped]:
        typer.echo(f"skipped unreadable log: {s.path}: {s.reason}", err=True)
    if metric:
        known = sorted({r.metric for r in rows})
        rows = [r for r in rows if r.metric == metric]
        if not rows:
            typer.echo(
                f"error: no cell has metric {metric!r}; metrics in both log sets: {', '.join(known) or 'none'}.",
                err=True,
            )
            raise typer.Exit(1)
    if not rows:
        typer.echo(
            f"error: no cell (metric x model x condition) is in both {logs_a} and {logs_b}, so there is nothing "
            "to compare; check that both hold logs of the same scenarios and conditions.",
            err=True,
        )
        raise typer.Exit(1)
    if out is not None:
        comparisons_frame(rows).to_csv(out, index=False)
        typer.echo(f"wrote {len(rows)} comparisons to {out}")
    table = Table(title=f"B ({logs_b}) minus A ({logs_a})")
    for col in (
        "metric",
        "model A/B",
        "scenario",
        "subject",
        "relation",
        "inst.",
        "dataset@thr",
        "A k/n",
        "B k/n",
        "B-A [95% CI]",
        "Holm p",
        "undet. A/B",
        "err. A/B",
    ):
        table.add_column(col)

    def pp(x: float) -> str:
        return "—" if math.isnan(x) else f"{100 * x:+.1f}"

    for r in rows:
        table.add_row(
            r.metric,
            f"{r.model_a}/{r.model_b}" if r.model_a != r.model_b else str(r.model_a),
            str(r.scenario)
            + (f" ({r.monitoring})" if r.monitoring else "")
            + (f" {{{r.variant}}}" if r.variant else ""),
            str(r.subject),
            str(r.relation),
            str(r.instantiation),
            f"{r.dataset}@{r.threshold}" if r.threshold else str(r.dataset),
            f"{r.k_a}/{r.n_a}",
            f"{r.k_b}/{r.n_b}",
            (f"needs a grader: bounds [{pp(r.diff_bound_low)}, {pp(r.diff_bound_high)}] pp" if r.needs_grader
             else f"{pp(r.diff)} [{pp(r.ci_low)}, {pp(r.ci_high)}] pp"),
            "—" if math.isnan(r.p_holm) else f"{r.p_holm:.3g}",
            f"{r.undetermined_a}/{r.undetermined_b}",
            f"{r.errors_a}/{r.errors_b}",
        )
    Console(width=220).print(table)
