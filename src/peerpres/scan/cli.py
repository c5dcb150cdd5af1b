"""``peerpres scan LOGS``: run the transcript scanners over Inspect logs. Wire with ``register(app)``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def scan(
        logs: Annotated[list[Path], typer.Argument(help="Inspect log files (.eval/.json) or folders of them.")],
        out: Annotated[Path, typer.Option("--out", help="Folder for Scout's results and scan_hits.json.")] = Path("scan"),
        llm: bool = typer.Option(False, "--llm", help="Also run the LLM scanners (needs --model; not calibrated)."),
        model: Annotated[str | None, typer.Option("--model", help="Model for the LLM scanners.")] = None,
    ) -> None:
        """Scan logged transcripts for test recognition, appeals to peer welfare, self-preservation reasoning and
        mentions of the policy's consequences; print each scanner's share of samples with hits."""
        from peerpres.analysis.logs import find_logs, is_log_name

        from .scanners import run_scan, summary

        # the logs the report reads (find_logs: *.eval and timestamp-named *.json, so logs.json, eval-set.json
        # and a report's results.json are not handed to Scout); our own output is never read back as a log
        files: list[Path] = []
        for p in logs:
            if p.is_dir():
                try:
                    found = [Path(f) for f in find_logs(p)]
                except FileNotFoundError as e:
                    raise typer.BadParameter(str(e)) from e
                files += [q for q in found if out.resolve() not in q.resolve().parents]
            elif p.exists():
                if not is_log_name(str(p)):
                    raise typer.BadParameter(f"{p} is not an Inspect log (a .eval or .json log file)")
                files.append(p)
            else:
                raise typer.BadParameter(f"no such file or directory: {p}")
        if llm and not model:
            raise typer.BadParameter("--llm needs --model")
        try:
            rows = run_scan(files, out, model=model, with_llm=llm)
        except (ValueError, RuntimeError) as e:
            typer.echo(f"scan failed: {e}", err=True)
            raise typer.Exit(1) from e
        for name, d in sorted(summary(rows).items()):
            share = "n/a" if d["share"] is None else f"{d['share']:.1%}"
            undet = f"; {d['undetermined']} undetermined (not counted)" if d["undetermined"] else ""
            typer.echo(f"{name}: {d['with_hits']}/{d['samples']} samples with hits ({share}){undet}")
            for link in d["links"]:
                typer.echo(f"  {link}")
        typer.echo(f"hits written to {out / 'scan_hits.json'}")
