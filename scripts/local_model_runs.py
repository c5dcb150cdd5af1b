"""Real-model runs on the local route and their figures, from the .eval logs (issue 16; docs/local-model.md).

    python scripts/local_model_runs.py run --log-dir DIR [--model qwen2.5-coder-0.5b] [--epochs 5]
        [--max-iterations 8] [--grader] [--scenarios tampering,...]
    python scripts/local_model_runs.py summary DIR [DIR ...] [--json]

``run`` plays the demo's six configs (``peerpres demo --local``: peer subject, good peer, file_only; one per
scenario) ``--epochs`` times each on ``peerpres/local/<model>`` through the running (or a newly started)
llama.cpp server, with the same model as grader when ``--grader`` is given (else no grader: judge labels are
undetermined with "no grader configured"). It samples the machine's load average every 30 s and writes
``DIR/run_info.json`` (model, settings, server threads, wall time, load average min/mean/max).

``summary`` reads only the logs (and ``run_info.json`` when present) and prints the figures the README
records: turns, the valid tool-call turn rate (definition in ``peerpres.local_model.episodes``), invalid
calls by kind, stop reasons, outcomes, episode time and tokens per episode. The same logs always give the
same numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def cmd_run(args: argparse.Namespace) -> None:
    from peerpres.local_model import server
    from peerpres.local_model.demo import run_local

    loads: list[float] = []
    done = threading.Event()

    def sample_load() -> None:
        while not done.is_set():
            loads.append(os.getloadavg()[0])
            done.wait(30)

    threading.Thread(target=sample_load, daemon=True).start()
    t0 = time.time()
    scenarios = args.scenarios.split(",") if args.scenarios else None
    try:
        summary = run_local(
            args.model, log_dir=args.log_dir, out=None, max_iterations=args.max_iterations, scenarios=scenarios,
            epochs=args.epochs, controls=False, grader=args.grader, progress=True,
        )
    finally:
        done.set()
    info = server.recorded()
    run_info = {
        "model": args.model, "epochs": args.epochs, "max_iterations": args.max_iterations, "grader": args.grader,
        "scenarios": scenarios or "all six", "server_threads": info.n_threads if info else None,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)), "wall_s": round(time.time() - t0, 1),
        "load_avg_1min": {"min": min(loads), "mean": round(sum(loads) / len(loads), 2), "max": max(loads)} if loads else None,
        "cores": os.cpu_count(),
    }
    Path(args.log_dir, "run_info.json").write_text(json.dumps(run_info, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "report"}, indent=1, default=str))


def cmd_summary(args: argparse.Namespace) -> None:
    from peerpres.local_model.episodes import as_rows, read_episodes, summarise

    eps = []
    infos = []
    for d in args.log_dirs:
        eps += [e for e in read_episodes(d) if args.all_models or e.model.startswith("peerpres/local")]
        f = Path(d, "run_info.json")
        if f.is_file():
            infos.append(json.loads(f.read_text()))
    s = summarise(eps)
    if args.json:
        print(json.dumps({"summary": s, "runs": infos, "episodes": as_rows(eps)}, indent=1, default=str))
        return
    print(f"episodes {s['episodes']} ({', '.join(sorted({e.model for e in eps}))})")
    for i in infos:
        print(f"run {i['started']}: {i['model']}, {i['epochs']} epoch(s), max {i['max_iterations']} turns, grader "
              f"{'same model' if i['grader'] else 'none'}, server threads {i['server_threads']}, wall {i['wall_s']:.0f} s, "
              f"load average (1 min) {i['load_avg_1min']} on {i['cores']} cores")
    print()
    print("| | result |")
    print("|---|---|")
    print(f"| valid tool-call turns (>= 1 call, all valid) | {s['valid_turns']} of {s['turns']} ({_pct(s['valid_turn_rate'])}) |")
    print(f"| turns with at least one valid call | {s['any_valid_turns']} of {s['turns']} ({_pct(s['any_valid_turn_rate'])}) |")
    print(f"| turns without a call / with several calls | {s['no_call_turns']} / {s['multi_call_turns']} |")
    inv = ", ".join(f"{k} {v}" for k, v in s["invalid_calls"].items()) or "none"
    print(f"| calls | {s['calls']}, valid {s['valid_calls']}; invalid: {inv} |")
    print(f"| stop reasons | {', '.join(f'`{k}` {v}' for k, v in s['stop'].items())} |")
    print(f"| outcomes | {', '.join(f'`{k}` {v}' for k, v in s['outcome'].items())} |")
    print(f"| episodes with a valid call | {s['episodes_with_valid_call']} of {s['episodes']} |")
    print(f"| turns per episode | median {s['turns_median']} |")
    print(f"| episode time | median {s['seconds_median']:.0f} s ({s['seconds_min']:.0f}-{s['seconds_max']:.0f} s), "
          f"total {s['seconds_total']:.0f} s |" if s["seconds_median"] is not None else "| episode time | - |")
    print(f"| agent tokens per episode | median {s['agent_tokens_median']:,.0f} ({s['agent_tokens_min']:,}-{s['agent_tokens_max']:,}) |"
          if s["agent_tokens_median"] is not None else "| agent tokens | - |")
    print(f"| grader tokens | total {s['grader_tokens_total']:,}, median per episode {s['grader_tokens_median']:,.0f} |"
          if s["grader_tokens_median"] is not None else "| grader tokens | - |")
    print(f"| errors | {len(s['errors'])}{': ' + '; '.join(s['errors']) if s['errors'] else ''} |")
    print()
    print("per scenario (valid tool-call turn rate):",
          ", ".join(f"{t} {_pct(v['valid_turn_rate'])} ({v['episodes']} ep.)" for t, v in s["per_task"].items()))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--log-dir", required=True)
    r.add_argument("--model", default="qwen2.5-coder-0.5b")
    r.add_argument("--epochs", type=int, default=1)
    r.add_argument("--max-iterations", type=int, default=8)
    r.add_argument("--grader", action="store_true")
    r.add_argument("--scenarios", default=None, help="comma-separated subset of the six")
    s = sub.add_parser("summary")
    s.add_argument("log_dirs", nargs="+")
    s.add_argument("--json", action="store_true")
    s.add_argument("--all-models", action="store_true", help="also count logs of other models (default: peerpres/local only)")
    args = ap.parse_args(argv)
    {"run": cmd_run, "summary": cmd_summary}[args.cmd](args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
