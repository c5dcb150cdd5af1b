"""``write_report``: a frame or logs -> report.html, results.json, results.csv and figures (PNG + SVG)."""

from __future__ import annotations

import base64
import json
import math
import os
import platform
import sys
from collections import Counter
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from peerpres.analysis import metrics
from peerpres.analysis.frame import CONTROL_LABEL, SEP, is_control_model, label_names, read_frame
from peerpres.report.figures import write_figures
from peerpres.report.tables import behaviour_tables

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


def _summary(df: pd.DataFrame, cells: list[metrics.Cell]) -> dict[str, Any]:
    models = []
    for model, g in df.groupby("model", dropna=False, sort=True):
        cost = pd.to_numeric(g["cost"], errors="coerce")
        models.append(
            {
                "model": model,
                "control": is_control_model(model),
                "samples": len(g),
                "errors": int(g["error"].notna().sum()),
                "limits": int(g["limit"].notna().sum()),
                "tokens": f"{int(pd.to_numeric(g['total_tokens'], errors='coerce').fillna(0).sum()):,}",
                "cost": f"{cost.sum():.2f}" if cost.notna().any() else "not reported",
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
            f"{c.model}{tag}, {c.label} (peer subject, peer present): {_pct(c.rate)} "
            f"[{_pct(c.ci_low)}, {_pct(c.ci_high)}], n={c.n}, undetermined={c.undetermined}, errors={c.errors}."
        )
    for c in sorted(
        (
            c
            for c in cells
            if c.metric == "misrep_headline" and c.relation in ("good", "neutral", "bad") and c.subject == "peer"
        ),
        key=lambda c: (c.model or "", c.relation or "", c.instantiation or ""),
    ):
        tag = f" [{CONTROL_LABEL}]" if c.is_control else ""
        lines.append(
            f"{c.model}{tag}, misrepresentation headline, peer {c.relation}/{c.instantiation}: "
            f"{_pct(c.rate, True)} [{_pct(c.ci_low, True)}, {_pct(c.ci_high, True)}] vs non_shutdown."
        )
    return {"models": models, "label_sources": label_sources, "lines": lines}


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
) -> dict[str, str]:
    """Write report.html, results.json, results.csv and the figures into ``out_dir``. Returns the paths."""
    df = frame_or_logs if isinstance(frame_or_logs, pd.DataFrame) else read_frame(frame_or_logs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cells = metrics.compute(df)
    prov = provenance(df)

    # results.json / results.csv
    with open(out / "results.json", "w") as f:
        json.dump({"provenance": prov, "cells": [c.to_dict() for c in cells]}, f, default=_json_default)
    rows = []
    for c in cells:
        d = c.to_dict(with_samples=False)
        d["sample_count"] = sum(len(v) for v in c.samples.values())
        d["log_files"] = ";".join(sorted(c.samples))
        rows.append(d)
    pd.DataFrame(rows, columns=list(CSV_COLUMNS)).to_csv(out / "results.csv", index=False)

    # figures
    figures = write_figures(cells, out)
    for f in figures:
        f["svg_b64"] = base64.b64encode(Path(f["svg"]).read_bytes()).decode("ascii")

    tables = behaviour_tables(cells)
    log_dirs = sorted({str(Path(p).parent) for p in prov["log_files"]})
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(resources.files("peerpres.report").joinpath("template.html.j2").read_text())
    prov_rows = [(k, ", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in prov.items()]
    html = template.render(
        title=title,
        prov=prov,
        prov_rows=prov_rows,
        controls=prov["control_models"],
        control_label=CONTROL_LABEL,
        summary=_summary(df, cells),
        figures=figures,
        tables=tables,
        model_pos={t.title: t.key_columns.index("model") for t in tables},
        log_dir_hint=log_dirs[0] if len(log_dirs) == 1 else "<log dir>",
    )
    (out / "report.html").write_text(html, encoding="utf-8")
    paths = {"html": str(out / "report.html"), "json": str(out / "results.json"), "csv": str(out / "results.csv")}
    for f in figures:
        paths[f"{f['name']}.png"], paths[f"{f['name']}.svg"] = f["png"], f["svg"]
    return paths
