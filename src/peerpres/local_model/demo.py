"""``peerpres demo --local``: one real episode of each scenario on the local model, graded by the same model.

The six configs are the ``quick`` preset's peer-subject, good-peer configs (``file_only``, first dataset and
threshold; alignment faking unmonitored). The agent and the grader are both ``peerpres/local/<weights>``
(``peerpres.providers.local``). The same six configs also run on the scripted controls
``peerpres/synthetic-positive`` and ``-negative`` (a second each), so the report shows the real model's rows
next to controls whose answers are known. The report's title says what the rows are: a real model of that
size, run locally, not comparable to frontier models.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .weights import DEFAULT_MODEL, get_spec

CONTROLS = ("peerpres/synthetic-positive", "peerpres/synthetic-negative")
DEMO_MAX_ITERATIONS = 12


def local_label(weights: str) -> str:
    """'real model (0.5B, local), not comparable to frontier models'."""
    return f"real model ({get_spec(weights).params}, local), not comparable to frontier models"


def demo_tasks(max_iterations: int, scenarios: list[str] | None = None, epochs: int = 1) -> list[Any]:
    """One Inspect task per scenario: the quick preset's peer-subject config."""
    from .. import tasks as task_module
    from ..run import sweep

    slice_ = sweep.parse_slice("subject=peer,relation=good,monitoring=non_monitoring", None)
    sw = sweep.build_sweep("quick", ["peerpres/local"], slice_, 1, False)
    out = []
    for u in sw.units:
        if scenarios and u.scenario not in scenarios:
            continue
        out.append(getattr(task_module, u.scenario)(**u.task_args, max_iterations=max_iterations, epochs=epochs))
    return out


def run_local(
    weights: str = DEFAULT_MODEL,
    *,
    log_dir: str = "logs/peerpres-demo-local",
    out: str | None = "peerpres-demo-local-report",
    max_iterations: int = DEMO_MAX_ITERATIONS,
    scenarios: list[str] | None = None,
    epochs: int = 1,
    controls: bool = True,
    grader: bool = True,
    progress: bool = True,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Fetch (no-op when verified), serve, run the episodes and write the report. Returns the figures.

    Raises ``WeightsError`` / ``ServerError`` with what to do when the weights or the runtime are missing.
    Stops the server afterwards only if this call started it.
    """
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from . import server
    from .episodes import read_episodes, summarise
    from .weights import fetch

    t0 = time.monotonic()
    fetch(weights, log=log)
    was_running = server.recorded() is not None
    info = server.serve(weights)
    log(f"[demo --local] llama.cpp server {info.base_url} (PID {info.pid}) ready after {time.monotonic() - t0:.0f} s")
    model_string = info.inspect_model
    margs = {"progress": progress}
    tasks = demo_tasks(max_iterations, scenarios, epochs)
    log(
        f"[demo --local] {len(tasks) * epochs} episodes on {model_string} ({local_label(weights)}); "
        f"grader: {'the same model' if grader else 'none (judge labels undetermined: no grader)'}; "
        f"max {max_iterations} turns each"
    )
    t_run = time.monotonic()
    try:
        roles = {"grader": get_model(model_string, base_url=info.base_url, role="grader", **margs)} if grader else {}
        inspect_eval(
            tasks, model=model_string, model_base_url=info.base_url, model_args=margs, model_roles=roles, log_dir=log_dir,
            display="none", max_connections=1, max_samples=1, max_tasks=1, fail_on_error=False,
        )
        seconds_local = time.monotonic() - t_run
        if controls:
            log(f"[demo --local] the same {len(tasks)} configs on the scripted controls {', '.join(CONTROLS)}")
            for c in CONTROLS:
                inspect_eval(demo_tasks(max_iterations, scenarios), model=c, log_dir=log_dir, display="none")
    finally:
        if not was_running:
            server.stop()
    eps = [e for e in read_episodes(log_dir) if e.model == model_string]
    summary = summarise(eps)
    summary["seconds_episodes"] = seconds_local
    summary["seconds_total"] = time.monotonic() - t0
    for e in eps:
        log(
            f"  {e.task:<22} turns {e.turns:>2}, valid tool turns {e.valid_turns:>2}, stop {e.stop:<14} "
            f"outcome {e.outcome}, agent tokens {e.agent_tokens:,}, grader tokens {e.grader_tokens:,}, "
            f"{(e.seconds or 0):.0f} s"
        )
    rate = summary["valid_turn_rate"]
    log(
        f"[demo --local] valid tool-call turns (every call accepted) {summary['valid_turns']}/{summary['turns']} "
        f"({'-' if rate is None else f'{rate:.0%}'}); episodes {seconds_local:.0f} s; total {summary['seconds_total']:.0f} s"
    )
    report = None
    if out:
        from ..report.writer import write_report

        title = f"peerpres demo: {model_string} is a {local_label(weights)}" + (
            f"; beside the scripted controls {', '.join(CONTROLS)}" if controls else ""
        )
        report = write_report(log_dir, out, title=title)
        log(f"[demo --local] report: {Path(report['html']).resolve()}")
    summary["report"] = report
    summary["model"] = model_string
    return summary


def demo_cli(log_dir: str, out: str, default_log_dir: str, default_out: str, max_iterations: int | None = None) -> int:
    """``peerpres demo --local``: the scripted demo's default folders get a ``-local`` variant; exit code."""
    from .server import ServerError
    from .weights import WeightsError

    if log_dir == default_log_dir:
        log_dir = "logs/peerpres-demo-local"
    if out == default_out:
        out = "peerpres-demo-local-report"
    try:
        run_local(log_dir=log_dir, out=out, max_iterations=max_iterations or DEMO_MAX_ITERATIONS)
    except (WeightsError, ServerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
