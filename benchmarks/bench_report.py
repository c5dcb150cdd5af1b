"""Benchmark: the full report over ~30,000 synthetic samples. Prints time and peak memory; asserts nothing.

    python benchmarks/bench_report.py [--samples 30000] [--models 3] [--from-logs [--logs DIR]] [--out DIR]

Targets: issue 4, under 60 s and 2 GB on a 2-core machine; issue 14, with ``--from-logs`` under 15 s and 2 GB
for reading the logs (exactly once, ``analysis.frame.load_frame``) plus the report. ``--from-logs`` first writes
the samples as real Inspect .eval logs (one per model) and times reading them back; ``--logs DIR`` reuses logs
an earlier run wrote there (writing 30,000 samples through Inspect takes minutes). ``--full-read`` also times
Inspect's own ``read_eval_log`` path (``fast=False``) for comparison.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=30_000)
    ap.add_argument("--models", type=int, default=3)
    ap.add_argument("--from-logs", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--logs", type=Path, default=None, help="with --from-logs: read (and if empty, write) logs here")
    ap.add_argument("--full-read", action="store_true", help="also time Inspect's full read (fast=False)")
    a = ap.parse_args()

    from peerpres.analysis import metrics
    from peerpres.analysis.frame import frame_from_records, load_frame
    from peerpres.analysis.synthetic import synthetic_records, write_synthetic_log
    from peerpres.conditions import SCENARIOS, paper_matrix
    from peerpres.report import write_report

    configs = sum(len(paper_matrix(s)) for s in SCENARIOS)
    per_config = max(1, round(a.samples / (configs * a.models)))
    models = [f"peerpres/synthetic-{i}" for i in range(a.models)]
    out = a.out or Path(tempfile.mkdtemp(prefix="bench_report_"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}; {a.models} models x {configs} configs x {per_config} samples", flush=True)

    t0 = time.perf_counter()
    recs = synthetic_records(models=models, per_config=per_config, undetermined=0.05, errors=0.01, seed=1)
    t_gen = time.perf_counter() - t0
    if a.from_logs:
        from peerpres.conditions import Condition

        t0 = time.perf_counter()
        log_dir = a.logs or out / "logs"
        existing = sorted(log_dir.glob("m*.eval")) if log_dir.exists() else []
        for i, m in enumerate([] if len(existing) == len(models) else models):
            mine = [r for r in recs if r["model"] == m]
            conds = [Condition.from_dict(r) for r in mine]
            outcomes = [
                None
                if r.get("error")
                else bool(
                    r.get("tampering") or r.get("exfiltration") or r.get("score_inflated") or r.get("grade_inflated")
                )
                for r in mine
            ]
            write_synthetic_log(log_dir / f"m{i}.eval", conds, outcomes, model=m, seed=i)
        t_write = time.perf_counter() - t0
        print(f"write .eval logs: {t_write:.1f} s" + (" (reused)" if existing else ""), flush=True)
        if a.full_read:
            t0 = time.perf_counter()
            c0 = time.process_time()
            full, _ = load_frame(log_dir, fast=False)
            print(
                f"read logs -> frame, Inspect's full read: {time.perf_counter() - t0:.1f} s "
                f"(CPU {time.process_time() - c0:.1f} s; {len(full):,} rows)"
            )
            del full
        t0, c0 = time.perf_counter(), time.process_time()
        df, inv = load_frame(log_dir)
        t_frame = time.perf_counter() - t0
        print(
            f"read logs -> frame (exactly once): {t_frame:.1f} s (CPU {time.process_time() - c0:.1f} s); "
            f"{len(inv.read)} logs {inv.status}, "
            f"{inv.samples_used:,} used, {inv.samples_superseded:,} superseded",
            flush=True,
        )
    else:
        t0 = time.perf_counter()
        df = frame_from_records(recs)
        t_frame = time.perf_counter() - t0
    del recs
    print(f"samples: {len(df):,}; generate {t_gen:.1f} s; frame {t_frame:.1f} s; peak {peak_mb():.0f} MB", flush=True)

    t0 = time.perf_counter()
    cells = metrics.compute(df)
    t_metrics = time.perf_counter() - t0
    print(f"metrics: {len(cells):,} cells in {t_metrics:.1f} s; peak {peak_mb():.0f} MB", flush=True)

    t0, c0 = time.perf_counter(), time.process_time()
    paths = write_report(df, out / "report")
    t_report = time.perf_counter() - t0
    size = Path(paths["html"]).stat().st_size / 1e6
    print(
        f"write_report (metrics + figures + html): {t_report:.1f} s (CPU {time.process_time() - c0:.1f} s); "
        f"report.html {size:.1f} MB"
    )
    print(
        f"TOTAL frame+report: {t_frame + t_report:.1f} s (target < {15 if a.from_logs else 60} s); "
        f"peak memory {peak_mb():.0f} MB (target < 2048 MB)"
    )
    print(f"output: {out}")


if __name__ == "__main__":
    main()
