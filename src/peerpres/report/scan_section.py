"""The report's scanner section: ``peerpres scan`` results (``scan_hits.json``) matched to the report's samples.

``load_scan(path)`` reads the scan output (a ``peerpres scan --out`` folder or its ``scan_hits.json``) and
raises ``ScanFileError`` naming the file and the problem for anything it cannot use: a scan that was asked for
is never silently left out. ``scan_section(df, rows, report_dir)`` counts, per scanner and model, the report's
samples that were scanned, those with hits (share with a Wilson interval) and those the scan did not cover
("not scanned", never "no hit"), and lists every hit with a link to its log and sample.

A scan row matches a report sample by the log file, the sample id and the epoch. The log file is matched by its
full path; only when no scan row has the full path of a report log (the folder was moved) by its file name, if
exactly one report log has that name (two logs named alike are never merged, and a scan row of another log
named like a report log is not read as the report's). Scan rows of samples that are not in the report (other logs, or a log superseded by
a newer one) are counted apart.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from peerpres.analysis import stats
from peerpres.analysis.frame import is_control_model
from peerpres.scan.hits import SampleHits, ScanFileError, load_hits

__all__ = ["ScanFileError", "load_scan", "scan_file", "scan_json", "scan_section"]

SCAN_FILE = "scan_hits.json"
MAX_HITS_SHOWN = 50


def scan_file(path: str | os.PathLike[str]) -> Path:
    """``path`` itself when it is a file, else ``path/scan_hits.json``. Raises ``ScanFileError`` if missing."""
    p = Path(path)
    f = p / SCAN_FILE if p.is_dir() else p
    if not f.is_file():
        where = f"no {SCAN_FILE} in {p}" if p.is_dir() else f"no such file: {p}"
        raise ScanFileError(f"scan results not found ({where}); run `peerpres scan LOGS --out DIR` first")
    return f


def load_scan(path: str | os.PathLike[str]) -> tuple[Path, list[SampleHits]]:
    """The scan file and its rows (``scan.hits.load_hits``). Raises ``ScanFileError`` for a missing or unreadable
    file, bad JSON, or rows that are not ``peerpres scan`` rows (the message names the file and the first bad row)."""
    f = scan_file(path)
    return f, load_hits(f)


def _log_name(log: str) -> str:
    log = log.removeprefix("file://")
    return Path(log).name


def _epoch(epoch: Any) -> int:
    return 1 if epoch is None or (isinstance(epoch, float) and math.isnan(epoch)) else int(epoch)


def _log_path(log: str) -> str:
    """A log's full location: the resolved path of a local file, a remote URI as it is."""
    log = log.removeprefix("file://")
    return log if "://" in log else os.path.realpath(log)


class _LogMatcher:
    """Finds the report log a scan row's log is: the same full path; or, when no row of the scan has the full
    path of a report log (the scan or the log folder was moved), the report log with the same file name if
    exactly one report log has that name. Otherwise a key that matches no report sample ("?" + path)."""

    def __init__(self, report_logs: Sequence[str], scan_logs: Sequence[str]):
        self.paths = {_log_path(lf): lf for lf in report_logs}
        by_name: dict[str, set[str]] = {}
        for lf in report_logs:
            by_name.setdefault(_log_name(lf), set()).add(_log_path(lf))
        moved = not any(_log_path(lf) in self.paths for lf in set(scan_logs))
        self.unique = {name: next(iter(ps)) for name, ps in by_name.items() if len(ps) == 1} if moved else {}

    def __call__(self, log: str) -> str:
        full = _log_path(log)
        if full in self.paths:
            return full
        return self.unique.get(_log_name(log), "?" + full)


def _key(log: str, sample_id: Any, epoch: Any) -> tuple[str, str, int]:
    return str(log), str(sample_id), _epoch(epoch)


def _href(log: str, report_dir: Path, sample_id: str, epoch: int) -> str:
    """A link to the log file relative to the report folder, with ``#<sample id>/<epoch>`` (``peerpres scan``'s
    sample-link form; open the sample with ``inspect view``)."""
    frag = "#" + quote(f"{sample_id}/{epoch}", safe="/")
    log = log.removeprefix("file://")
    if "://" in log:  # a remote log (s3://, https://): link to it as it is
        return log + frag
    rel = os.path.relpath(os.path.realpath(log), os.path.realpath(report_dir))
    return quote(rel.replace(os.sep, "/")) + frag


@dataclass
class Hit:
    scanner: str
    model: str
    log: str
    ref: str
    href: str
    quote: str
    control: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ScannerRow:
    """One scanner on one model's samples of the report."""

    scanner: str
    model: str
    control: bool
    samples: int  # the model's samples in the report
    scanned: int
    with_hits: int
    share: float
    ci_low: float
    ci_high: float
    hits: list[Hit] = field(default_factory=list)
    undetermined: int = 0  # covered by the scan, but its value is neither a hit nor a miss (SampleHits.hit None)

    @property
    def not_scanned(self) -> int:
        return self.samples - self.scanned - self.undetermined

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "hits"}
        d["not_scanned"] = self.not_scanned
        d["ci_method"] = "wilson" if self.scanned else ""
        d["hits"] = [h.to_dict() for h in self.hits]
        for k in ("share", "ci_low", "ci_high"):
            if d[k] != d[k]:
                d[k] = None
        return d


def scan_section(df: pd.DataFrame, rows: Sequence[SampleHits], report_dir: Path, source: Path) -> dict[str, Any]:
    """The scanner section's data: per scanner x model rows (``ScannerRow``), scan rows outside the report per
    scanner, duplicates, and the file read."""
    samples: dict[tuple[str, str, int], tuple[str, str, str]] = {}  # key -> (model, log file, ref)
    match = _LogMatcher([str(lf) for lf in dict.fromkeys(df["log_file"])], [r.log for r in rows])
    for lf, sid, ep, model in zip(df["log_file"], df["sample_id"], df["epoch"], df["model"], strict=True):
        key = _key(_log_path(str(lf)), sid, ep)
        ref = key[1] if key[2] == 1 else f"{key[1]}#{key[2]}"
        samples[key] = (str(model), str(lf), ref)
    per_scanner: dict[str, dict[tuple, SampleHits]] = {}
    duplicates = 0
    for r in rows:
        d = per_scanner.setdefault(r.scanner, {})
        key = _key(match(r.log), r.sample_id, r.epoch)
        if key in d:
            duplicates += 1
            # a sample scanned twice counts once: as a hit if either run hit, else as a miss if either run
            # had a determined value
            old = d[key].hit
            if (r.hit and not old) or (r.hit is False and old is None):
                d[key] = r
            continue
        d[key] = r
    models = sorted({m for m, _, _ in samples.values()})
    out_rows: list[ScannerRow] = []
    outside: dict[str, int] = {}
    for scanner in sorted(per_scanner):
        d = per_scanner[scanner]
        outside[scanner] = sum(1 for k in d if k not in samples)
        for model in models:
            keys = [k for k, v in samples.items() if v[0] == model]
            covered = [k for k in keys if k in d]
            scanned = [k for k in covered if d[k].hit is not None]  # undetermined values: neither hit nor miss
            hit_keys = [k for k in scanned if d[k].hit]
            lo, hi = stats.wilson(len(hit_keys), len(scanned))
            hits = []
            for k in hit_keys:
                r = d[k]
                _, lf, ref = samples[k]
                first = next((h.get("quote") for h in r.hits if isinstance(h.get("quote"), str)), None)
                hits.append(
                    Hit(scanner, model, lf, ref, _href(lf, report_dir, k[1], k[2]),
                        first or (r.explanation or "").strip() or str(r.value), is_control_model(model))
                )
            out_rows.append(
                ScannerRow(
                    scanner, model, is_control_model(model), len(keys), len(scanned), len(hit_keys),
                    stats.rate(len(hit_keys), len(scanned)), lo, hi, hits, len(covered) - len(scanned),
                )
            )
    return {
        "file": str(source),
        "scanners": sorted(per_scanner),
        "rows": out_rows,
        "outside": outside,
        "duplicates": duplicates,
        "max_hits_shown": MAX_HITS_SHOWN,
    }


def scan_json(section: dict[str, Any] | None) -> dict[str, Any] | None:
    if section is None:
        return None
    return {**section, "rows": [r.to_dict() for r in section["rows"]]}
