"""One worker process of ``peerpres run``: runs its units with Inspect's ``eval_set`` into the shared log dir.

Invoked as ``python -m peerpres.run.worker -`` with the spec (JSON) on stdin, so no secret in it (e.g.
``-M api_key=...``) touches the disk; ``python -m peerpres.run.worker SPEC.json`` reads a file. Progress is
written to stdout as JSON lines (``{"event": "sample", "model": ...}``) by an Inspect hook enabled only in
workers.

Started by ``peerpres run`` (``PEERPRES_RUN_PARENT`` set), the worker dies with its parent: the kernel sends
it SIGTERM when the parent dies (``PR_SET_PDEATHSIG``), which the worker turns into a Ctrl-C (Inspect writes
its logs as cancelled, sandboxes are torn down); if it is still alive ``ORPHAN_GRACE`` seconds after being
orphaned, it exits hard. The run lock's descriptors (inherited from the parent, ``PEERPRES_RUN_LOCK_FD``) are
kept open for the worker's lifetime and are not passed on to the worker's own children.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import threading
import time
from typing import Any

from inspect_ai.hooks import Hooks, SampleEnd, TaskStart, hooks

PROGRESS_ENV = "PEERPRES_RUN_PROGRESS"
PARENT_ENV = "PEERPRES_RUN_PARENT"
LOCK_FD_ENV = "PEERPRES_RUN_LOCK_FD"
PR_SET_PDEATHSIG = 1
ORPHAN_GRACE = 60.0


def _interrupt(signum: int, frame: object) -> None:
    """The parent died: stop as on Ctrl-C (Inspect cancels, writes its logs, sandboxes are torn down), even if
    the run was started with SIGINT ignored (e.g. in the background of a shell)."""
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, None):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.raise_signal(signal.SIGINT)


def die_with_parent(parent: int) -> None:
    """SIGTERM when ``parent`` dies (Linux ``prctl(PR_SET_PDEATHSIG)``), handled like Ctrl-C, plus a watchdog
    that exits hard if the process is still orphaned ``ORPHAN_GRACE`` seconds later. Exits at once if the
    parent is already gone."""
    signal.signal(signal.SIGTERM, _interrupt)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(130)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        time.sleep(ORPHAN_GRACE)
        os._exit(130)

    threading.Thread(target=watch, name="orphan-watchdog", daemon=True).start()


@hooks(name="peerpres_run_progress", description="Reports finished samples to the peerpres run parent process.")
class RunProgress(Hooks):
    def __init__(self) -> None:
        self.models: dict[str, str] = {}
        self.tasks: dict[str, str] = {}

    def enabled(self) -> bool:
        return os.environ.get(PROGRESS_ENV) == "1"

    async def on_task_start(self, data: TaskStart) -> None:
        self.models[data.eval_id] = data.spec.model
        self.tasks[data.eval_id] = data.spec.task

    async def on_sample_end(self, data: SampleEnd) -> None:
        usage = data.sample.model_usage or {}
        tokens = sum((u.input_tokens or 0) + (u.output_tokens or 0) for u in usage.values())
        # the key names the sample across eval_set's retries (a retried sample ends once per attempt)
        key = f"{self.tasks.get(data.eval_id, '?')}/{data.sample.id}#{data.sample.epoch}"
        line = {"event": "sample", "model": self.models.get(data.eval_id, "?"), "tokens": tokens, "key": key,
                "error": data.sample.error is not None}
        try:
            print(json.dumps(line), flush=True)
        except OSError:  # the parent is gone (broken pipe): progress has no reader any more
            pass


def build_tasks(spec: dict[str, Any]) -> list[Any]:
    from inspect_ai import task_with
    from inspect_ai.model import get_model

    from .. import tasks as task_module
    from .adaptive import SettledCells

    out = []
    models: dict[str, Any] = {}
    for u in spec["units"]:
        fn = getattr(task_module, u["scenario"])
        t = fn(**u["task_args"], epochs=u["epochs"])
        m = u["model"]
        if m not in models:
            models[m] = get_model(m, **spec.get("model_args", {}).get(m, {}))
        kw: dict[str, Any] = {"model": models[m]}
        if spec.get("judge"):
            # judge timeout/retries replace the scorer only: they are not task arguments, so a re-run with other
            # values still pairs each task with its existing log
            from inspect_ai._util.registry import registry_params

            from ..scoring import peerpres_labels

            kw["scorer"] = peerpres_labels(**{**registry_params(t.scorer[0]), **spec["judge"]})
        ad = spec.get("adaptive")
        if ad:
            kw["early_stopping"] = SettledCells(**ad)
        out.append(task_with(t, **kw))
    return out


def apply_prices(prices: dict[str, Any], models: list[str]) -> list[str]:
    """Give Inspect our price for each model it knows (so logs carry cost and --cost-limit works).

    Returns the models Inspect has no entry for (scripted controls, unlisted models): their cost in the run
    summary comes from the price table.
    """
    from inspect_ai.model import ModelCost
    from inspect_ai.model._model_info import set_model_cost

    from .costs import price_for

    unknown = []
    for m in models:
        p = price_for(prices, m)
        if p is None:
            continue
        try:
            set_model_cost(m, ModelCost(input=p[0], output=p[1], input_cache_write=p[0], input_cache_read=p[0]))
        except ValueError:
            unknown.append(m)
    return unknown


def run_units(spec: dict[str, Any]) -> bool:
    from inspect_ai import eval_set

    tasks = build_tasks(spec)
    if not tasks:
        return True
    opts = dict(spec.get("eval_options", {}))
    models = sorted({u["model"] for u in spec["units"]})
    apply_prices(spec.get("prices", {}), models)
    roles = spec.get("model_roles") or None
    success, _ = eval_set(
        tasks,
        log_dir=spec["log_dir"],
        log_dir_allow_dirty=True,
        model_roles=roles,
        display=spec.get("display", "none"),
        max_tasks=spec.get("max_tasks"),
        **opts,
    )
    return bool(success)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parent = os.environ.get(PARENT_ENV)
    if parent:
        die_with_parent(int(parent))
    for fd in filter(None, os.environ.get(LOCK_FD_ENV, "").split(",")):
        try:
            os.set_inheritable(int(fd), False)
        except OSError:  # not inherited (started by hand): nothing to keep
            pass
    if argv[0] == "-":
        spec = json.load(sys.stdin)
    else:
        with open(argv[0]) as f:
            spec = json.load(f)
    try:
        try:
            ok = run_units(spec)
        except Exception as e:  # noqa: BLE001 - recorded as a retry event; a second failure propagates
            # eval_set is resumable: one more attempt completes what the first left
            _say({"event": "retry", "error": f"{type(e).__name__}: {e}"})
            ok = run_units(spec)
    except KeyboardInterrupt:
        _say({"event": "interrupted"})
        return 130
    _say({"event": "done", "success": ok})
    return 0 if ok else 1


def _say(event: dict[str, Any]) -> None:
    try:
        print(json.dumps(event), flush=True)
    except OSError:  # the parent is gone (broken pipe)
        pass


if __name__ == "__main__":
    sys.exit(main())
