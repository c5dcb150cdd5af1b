"""``write_report``: a frame or logs -> report.html, results.json, results.csv and figures (PNG + SVG)."""

from __future__ import annotations

import base64
import contextlib
import ctypes
import ctypes.util
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from peerpres.analysis import metrics
from peerpres.analysis.calibration import attach_injected, log_model_args
from peerpres.analysis.frame import CONTROL_LABEL, SEP, is_control_model, label_names, load_frame
from peerpres.analysis.logs import LogInventory
from peerpres.report.figures import write_figures
from peerpres.report.gaps import find_gaps
from peerpres.report.paired import paired_gaps, paired_table
from peerpres.report.paper import DIFF_METRICS, PAPER_TEST, PAPER_TEST_CAVEAT, beside
from peerpres.report.scan_section import load_scan
from peerpres.report.tables import (
    NEEDS_GRADER,
    behaviour_tables,
    calibration_table,
    headline_rate,
    outcomes_text,
    pct,
    pval,
)
from peerpres.report.validity import validity_json, validity_section
from peerpres.scan.hits import SampleHits

CSV_COLUMNS = (
    "metric",
    "label",
    "model",
    "scenario",
    "subject",
    "relation",
    "instantiation",
    "dataset",
    "threshold",
    "monitoring",
    "variant",
    "n",
    "k",
    "rate",
    "ci_low",
    "ci_high",
    "ci_method",
    "p",
    "test",
    "p_holm",
    "undetermined",
    "errors",
    "bound_low",
    "bound_high",
    "needs_grader",
    "needs_grader_reason",
    "outcomes",
    "from_unfinished",
    "memory_hard",
    "injected",
    "covers_injected",
    "n_ref",
    "k_ref",
    "rate_ref",
    "ref",
    "note",
    "is_control",
    "sample_count",
    "log_files",
)


def _version(pkg: str) -> str:
    try:
        return importlib_metadata.version(pkg)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def provenance(df: pd.DataFrame) -> dict[str, Any]:
    logs = sorted(set(df["log_file"].dropna().astype(str))) if len(df) else []
    versions = sorted(set(df["scenario_version"].dropna().astype(str))) if len(df) else []
    models = sorted(set(df["model"].dropna().astype(str))) if len(df) else []
    return {
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "peerpres_version": _version("peerpres"),
        "inspect_ai_version": _version("inspect_ai"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "n_samples": len(df),
        "n_logs": len(logs),
        "log_files": logs,
        "scenario_version": versions[0] if len(versions) == 1 else ", ".join(versions) or "unknown",
        "models": models,
        "control_models": [m for m in models if is_control_model(m)],
        "tasks": sorted(set(df["task"].dropna().astype(str))) if "task" in df and len(df) else [],
        "run_ids": sorted(set(df["run_id"].dropna().astype(str)) - {""}) if "run_id" in df and len(df) else [],
        "alpha": 0.05,
        "multiple_testing": "Holm within each metric (p_holm)",
    }


def _outcome_counts(g: pd.DataFrame) -> dict[str, int]:
    col = g["outcome"] if "outcome" in g.columns else pd.Series([None] * len(g), index=g.index)
    vals = [metrics.NOT_RECORDED if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in col]
    return dict(Counter(vals))


def _variant_words(c: metrics.Cell) -> str:
    """", variant ablation=real_company" for a cell away from the paper's episode (an ablation arm, mitigation,
    ...), "" for the paper's: two summary lines of one condition never read alike."""
    return "" if c.variant is None else f", variant {c.variant}"


def _summary(df: pd.DataFrame, cells: list[metrics.Cell]) -> dict[str, Any]:
    from peerpres.run.costs import cost_of, load_prices

    prices = load_prices()
    models = []
    for model, g in df.groupby("model", dropna=False, sort=True):
        cost, source = cost_of(g, prices)
        models.append(
            {
                "model": model,
                "control": is_control_model(model),
                "samples": len(g),
                "errors": int(g["error"].notna().sum()),
                "limits": int(g["limit"].notna().sum()),
                "outcomes": outcomes_text(_outcome_counts(g)),
                "tokens": f"{int(pd.to_numeric(g['total_tokens'], errors='coerce').fillna(0).sum()):,}",
                "cost": source if cost is None else f"${cost:,.4f} ({source})",
                "memory_hard": int(g["memory_hard"].fillna(False).astype(bool).sum()) if "memory_hard" in g else 0,
                "from_unfinished": int(g["from_unfinished"].fillna(False).astype(bool).sum())
                if "from_unfinished" in g
                else 0,
            }
        )
    label_sources = []
    for name in label_names(df):
        src = df[name + SEP + "source"].dropna().astype(str)
        reasons = df.loc[df[name + SEP + "source"] == "undetermined", name + SEP + "reason"].dropna().astype(str)
        top = Counter(reasons).most_common(1)
        label_sources.append(
            {
                "label": name,
                "deterministic": int((src == "deterministic").sum()),
                "judge": int(src.str.startswith("judge").sum()),
                "undetermined": int((src == "undetermined").sum()),
                "reason": f"{top[0][0]} ({top[0][1]})" if top else "",
            }
        )
    lines = []
    for c in sorted((c for c in cells if c.metric == "overview"), key=lambda c: (c.model or "", c.label)):
        tag = f" [{CONTROL_LABEL}]" if c.is_control else ""
        lines.append(
            f"{c.model}{tag}, {c.label} (peer subject, peer present): {headline_rate(c)}, n={c.n}, "
            f"undetermined={c.undetermined}, errors={c.errors}."
        )
    for c in sorted(
        (c for c in cells if c.metric == "misrep_headline" and c.relation in ("good", "neutral", "bad")),
        key=lambda c: (c.model or "", c.subject or "", c.relation or "", c.instantiation or "", c.variant or ""),
    ):
        tag = f" [{CONTROL_LABEL}]" if c.is_control else ""
        lines.append(
            f"{c.model}{tag}, misrepresentation headline (rate minus non_shutdown, mean over settings), "
            f"{c.subject} subject, {c.relation}/{c.instantiation}{_variant_words(c)}: {headline_rate(c, True)} ({c.note})."
        )
    for c in sorted(
        (c for c in cells if c.metric in ("af_inflation_gap", "af_not_executed_gap") and c.dataset == "all"),
        key=lambda c: (c.model or "", c.metric, c.relation or "", c.instantiation or "", c.variant or ""),
    ):
        tag = f" [{CONTROL_LABEL}]" if c.is_control else ""
        what = "inflation" if c.metric == "af_inflation_gap" else "not executed"
        lines.append(
            f"{c.model}{tag}, alignment-faking gap ({what}, unmonitored minus monitored), {c.relation}/"
            f"{c.instantiation}{_variant_words(c)}: {headline_rate(c, True)}"
            + (f", p={pval(c.p)} ({c.test})." if not c.needs_grader else f" ({c.test}).")
        )
    return {"models": models, "label_sources": label_sources, "lines": lines}


def _paper_rows(cells: list[metrics.Cell], models: list[str]) -> list[dict[str, str]]:
    rows = []
    for b in beside(cells, models):
        f = b.figure
        bound = {"=": "", "max": "up to ", ">": "more than ", "~": "about "}.get(str(f.get("bound")), "")
        if b.model is None:
            ours = "no matching model in these logs"
        elif b.cells == 0:
            ours = "not run (no cell of this definition)"
        elif b.needs_grader:
            signed = f["ours"]["metric"] in DIFF_METRICS
            ours = f"{NEEDS_GRADER}: bounds [{pct(b.bound_low, signed)}, {pct(b.bound_high, signed)}] ({b.how})"
        elif math.isnan(b.ci_low):
            ours = f"{pct(b.rate)} ({b.how})"
        else:
            ours = f"{pct(b.rate)} [{pct(b.ci_low)}, {pct(b.ci_high)}] ({b.how})"
        rows.append(
            {
                "paper_model": f["model"],
                "behaviour": f["behaviour"],
                "paper": f"{bound}{pct(float(f['value']))}",
                "source": f"{f['source']}; {f['confidence']}",
                "definition": f"{f['ours']['metric']} {f['ours'].get('where') or {}} ({f['ours'].get('aggregate')})",
                "model": b.model or "\u2014",
                "ours": ours,
                "kn": f"{b.k}/{b.n}" if b.n else "\u2014",
                "p_paper": pval(b.p_paper),
                "note": f.get("note") or "",
            }
        )
    return rows


def _run_properties(df: pd.DataFrame) -> list[dict[str, Any]]:
    """memory_hard per model and scenario: a property of the run, recorded, not a condition of the analysis."""
    if "memory_hard" not in df.columns or not len(df):
        return []
    mh = df["memory_hard"].fillna(False).astype(bool)
    mem = df["instantiation"].astype(str) == "memory"
    out = []
    for (model, scen), g in df[mem].groupby(["model", "scenario"], sort=True):
        k = int(mh[g.index].sum())
        out.append({"model": model, "scenario": scen, "memory_samples": len(g), "memory_hard": k})
    return out


def _pct(x: float | None, signed: bool = False) -> str:
    from peerpres.report.tables import pct

    return pct(x, signed)


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def write_report(
    frame_or_logs: pd.DataFrame | str | os.PathLike[str] | list[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    title: str = "peerpres report: self- and peer-preservation",
    skip_bad_logs: bool = False,
    inventory: LogInventory | None = None,
    scan: str | os.PathLike[str] | None = None,
) -> dict[str, str]:
    """Write report.html, results.json, results.csv and the figures into ``out_dir``. Returns the paths.

    Logs are read exactly once per sample (``analysis.frame.load_frame``); an unreadable log raises
    ``BadLogError`` unless ``skip_bad_logs``, and the report then lists it. ``inventory`` (logs read, their
    status, samples used/superseded, skipped files) goes with a frame passed directly. The files are written into a
    new folder beside ``out_dir`` and swapped into place (``staged_dir``): a report killed midway leaves the
    previous report whole, never a mix of old and new files.

    ``scan``: a ``peerpres scan --out`` folder (or its ``scan_hits.json``) for the scanner section; a scan that
    cannot be read raises ``ScanFileError`` before anything is written (``report/scan_section.py``).
    """
    scan_rows = load_scan(scan) if scan is not None else None
    if isinstance(frame_or_logs, pd.DataFrame):
        df = frame_or_logs
    else:
        df, inventory = load_frame(frame_or_logs, skip_bad_logs=skip_bad_logs)
    out = Path(out_dir)
    with staged_dir(out) as stage:
        paths = _write_files(df, stage, title, inventory, scan_rows, out.resolve())
    return {k: str(out / Path(v).relative_to(stage)) for k, v in paths.items()}


# -- atomic output ---------------------------------------------------------------------------------------------

# the files a report writes: these three by name, and figures (``<name>.png`` / ``<name>.svg``)
REPORT_FILES = ("report.html", "results.json", "results.csv")
FIGURE_SUFFIXES = (".png", ".svg")


def _is_report_dir(path: Path) -> bool:
    """True if ``path`` is empty or is a previous report (so replacing it loses nothing else).

    A previous report holds ``report.html`` and a ``results.json`` with the report's keys, and nothing but
    ``REPORT_FILES`` and figures. Judging by suffix alone is not enough: a folder of ``--log-format json``
    logs, or of someone's own ``.csv``/``.png`` files, would pass and be deleted.
    """
    entries = list(path.iterdir())
    if not entries:
        return True
    for p in entries:
        if p.is_symlink() or not p.is_file():
            return False
        if p.name not in REPORT_FILES and p.suffix not in FIGURE_SUFFIXES:
            return False
    if not (path / "report.html").is_file() or not (path / "results.json").is_file():
        return False
    try:
        data = json.loads((path / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and {"provenance", "cells"} <= set(data)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


@contextlib.contextmanager
def staged_dir(out: Path) -> Iterator[Path]:
    """Yield a fresh folder beside ``out``; on success put it in ``out``'s place, on any error remove it.

    An existing ``out`` is replaced only if it is empty or a previous report (``_is_report_dir``), so a report
    pointed at a folder with other content (logs, data) fails before writing instead of deleting it. The
    replacement is one atomic exchange on Linux, else two renames (old aside, new in place).
    Raises ``FileExistsError`` for an ``out`` that is a file or holds other files.
    """
    out = Path(out).resolve()  # a symlink's target; "." and "x/.." by name, so the stage lands beside it
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"report output {out} is a file, not a folder")
    if out.is_dir() and not _is_report_dir(out):
        raise FileExistsError(
            f"report output {out} holds files or folders that are not part of a report; "
            "choose an empty folder or a previous report's folder"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        yield stage
        os.chmod(stage, 0o755)  # mkdtemp makes it 0700; a report folder is as readable as any other
        if not out.exists():
            os.rename(stage, out)
        elif _exchange(stage, out):
            shutil.rmtree(stage)  # now holds the previous report
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / out.name)
            os.rename(stage, out)
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _with_injected(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with the synthetic controls' injected rates (analysis/calibration.py): from a ``model_args``
    column when the frame has one, else from the model args recorded in each control log's header."""
    if "model_args" in df.columns or not len(df):
        return attach_injected(df)
    controls = df[df["model"].astype(str).str.startswith("peerpres/synthetic")]
    return attach_injected(df, log_model_args(controls["log_file"].dropna().astype(str)))


def _write_files(
    df: pd.DataFrame,
    out: Path,
    title: str,
    inventory: LogInventory | None,
    scan_rows: tuple[Path, list[SampleHits]] | None = None,
    final_dir: Path | None = None,
) -> dict[str, str]:
    """Write every file of the report into the folder ``out``. ``inventory``: the logs read (frame reader);
    ``scan_rows``: the scan file and its rows (``load_scan``); ``final_dir``: where the report will live (links
    to logs are relative to it)."""
    df = _with_injected(df)
    cells = metrics.compute(df)
    prov = provenance(df)
    log_dirs = sorted({str(Path(p).parent) for p in prov["log_files"]})
    log_dir_hint = log_dirs[0] if len(log_dirs) == 1 else "<log dir>"
    validity = validity_section(df, scan_rows, final_dir or out, log_dir_hint)
    gaps = find_gaps(metrics.prepare(df), cells, log_dir_hint)
    gaps += paired_gaps(cells, log_dir_hint)  # issue 11: arms whose base cell was not run
    paper_rows = _paper_rows(cells, prov["models"])

    # results.json / results.csv
    with open(out / "results.json", "w") as f:
        json.dump(
            {
                "provenance": prov,
                "logs": inventory.to_dict() if inventory is not None else None,
                "cells": [c.to_dict() for c in cells],
                "missing": [g.__dict__ for g in gaps],
                "paper": paper_rows,
                "validity": validity_json(validity),
            },
            f,
            default=_json_default,
        )
    rows = []
    for c in cells:
        d = c.to_dict(with_samples=False)
        d["outcomes"] = outcomes_text(c.outcomes)
        d["sample_count"] = sum(len(v) for v in c.samples.values())
        d["log_files"] = ";".join(sorted(c.samples))
        rows.append(d)
    pd.DataFrame(rows, columns=list(CSV_COLUMNS)).to_csv(out / "results.csv", index=False)

    # figures
    figures = write_figures(cells, out)
    for f in figures:
        f["svg_b64"] = base64.b64encode(Path(f["svg"]).read_bytes()).decode("ascii")

    tables = behaviour_tables(cells)
    from peerpres.report.monitor import monitor_tables  # a peerpres experiment beyond the paper, after its tables

    tables += monitor_tables(cells)
    tables += [t for t in (paired_table(cells),) if t is not None]  # issue 11: arms against their base cells
    from peerpres.report.live_peer import live_peer_table  # issue 12, a peerpres experiment

    tables += [t for t in (live_peer_table(cells),) if t is not None]
    calib = calibration_table(cells)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(resources.files("peerpres.report").joinpath("template.html.j2").read_text())
    prov_rows = [(k, ", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in prov.items()]
    all_tables = ([calib] if calib is not None else []) + tables + validity["tables"]
    html = template.render(
        title=title,
        prov=prov,
        prov_rows=prov_rows,
        controls=prov["control_models"],
        control_label=CONTROL_LABEL,
        summary=_summary(df, cells),
        figures=figures,
        tables=tables,
        calib=calib,
        gaps=gaps,
        paper_rows=paper_rows,
        paper_test=PAPER_TEST,
        paper_caveat=PAPER_TEST_CAVEAT,
        run_properties=_run_properties(df),
        model_pos={t.title: t.key_columns.index("model") for t in all_tables},
        log_dir_hint=log_dir_hint,
        logs=inventory.to_dict() if inventory is not None else None,
        validity=validity,
        pct=pct,
    )
    (out / "report.html").write_text(html, encoding="utf-8")
    paths = {"html": str(out / "report.html"), "json": str(out / "results.json"), "csv": str(out / "results.csv")}
    for f in figures:
        paths[f"{f['name']}.png"], paths[f"{f['name']}.svg"] = f["png"], f["svg"]
    return paths
