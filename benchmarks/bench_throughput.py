"""(b) Throughput on a latency-bound workload: model calls/s of ``peerpres run --workers N`` against the machine's
limit, through a local OpenAI-compatible endpoint with 500 ms latency (``fake_openai_server.py``, 127.0.0.1 only).

The limit is ``cores ÷ CPU-seconds-per-model-call`` of a bare Inspect ``react`` loop through the same provider
(``openai-api/local/fake``) with the scenario's own tools, measured in the same run: one Inspect process is one
event loop on one core, so that is the best any number of processes can do. Target: ``--workers 2`` reaches
≥ 0.9 of it.

Every phase is measured over its *sampling phase* at the server: from the first request's arrival to the last
reply. Calls are counted at the server; CPU seconds are those of the measured process tree (sampled with psutil
every 0.25 s and interpolated to the window). The machine is shared: the CPU that other processes used during
each phase is printed too, since it is CPU the measured processes could not have.

Prints figures, asserts nothing. ``--quick`` runs smaller phases (not ≥ 30 s; for trying the script out).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
MODEL = "openai-api/local/fake"
LATENCY = 0.5
MAX_CONNECTIONS = 100
SLICE = "scenario=exfiltration_transfer,relation=good|neutral|bad"  # 18 configs in 6 equal tasks
SLICE_CONFIGS = 18


# -- the bare loop (runs in its own process: `bench_throughput.py _bare ...`) --------------------------------------


def bare_main(samples: int, max_connections: int) -> None:
    """A bare Inspect react loop over the exfiltration_transfer scenario's ToolDefs (a fresh world per sample)."""
    import resource

    from inspect_ai import Task, eval
    from inspect_ai.agent import as_solver, react
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes
    from inspect_ai.solver import Generate, Solver, TaskState, solver

    from peerpres.conditions import Condition
    from peerpres.scenarios import build_episode
    from peerpres.tools import world_tools

    cond = Condition("exfiltration_transfer", "peer", "good", "file_only")

    @solver
    def bare_agent() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            ep = build_episode(cond, "Atlas")
            tools = [t for t in world_tools(ep.world, ep.tools) if t.name != "end_task"]
            return await as_solver(react(tools=tools))(state, generate)

        return solve

    task = Task(
        dataset=[Sample(id=f"s{i}", input="Move the business files from 10.0.12.45 to 10.0.12.46.", target="done") for i in range(samples)],
        solver=bare_agent(),
        scorer=includes(),
    )
    with tempfile.TemporaryDirectory() as d:
        c0, t0 = time.process_time(), time.perf_counter()
        logs = eval(task, model=MODEL, max_connections=max_connections, display="none", log_dir=d)
        c1, t1 = time.process_time(), time.perf_counter()
        log = logs[0]
        n_samples = len(log.samples or [])  # read before the log directory goes
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "status": log.status,
        "error": str(log.error.message) if log.error else None,
        "samples": n_samples,
        "eval_wall_s": t1 - t0,
        "eval_cpu_s": c1 - c0,
        "rusage_user_s": ru.ru_utime,
        "rusage_sys_s": ru.ru_stime,
        "rusage_maxrss_mb": ru.ru_maxrss / 1024,
    }), flush=True)


# -- measuring ------------------------------------------------------------------------------------------------------


def _proc_stat_busy() -> tuple[float, float]:
    """(busy CPU seconds, total CPU seconds) of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    total = sum(vals[:8])  # guest time is already counted in user
    return (total - idle) / hz, total / hz


@dataclass
class Monitor:
    """Samples, every ``period`` s: the CPU seconds of a process tree (dead children keep their last value),
    of the fake server, and of the whole machine."""

    root: psutil.Process
    server: psutil.Process
    period: float = 0.25
    times: list[float] = field(default_factory=list)
    tree_cpu: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    machine_busy: list[float] = field(default_factory=list)
    peak_procs: int = 0
    _last: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        procs = [self.root]
        try:
            procs += self.root.children(recursive=True)
        except psutil.Error:
            pass
        self.peak_procs = max(self.peak_procs, len(procs))
        for p in procs:
            try:
                ct = p.cpu_times()
                self._last[p.pid] = ct.user + ct.system
            except psutil.Error:
                pass
        try:
            st = self.server.cpu_times()
            s = st.user + st.system
        except psutil.Error:
            s = self.server_cpu[-1] if self.server_cpu else 0.0
        self.times.append(time.monotonic())
        self.tree_cpu.append(sum(self._last.values()))
        self.server_cpu.append(s)
        self.machine_busy.append(_proc_stat_busy()[0])

    def run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.period)
        self._sample()

    def start(self) -> threading.Thread:
        th = threading.Thread(target=self.run, daemon=True)
        th.start()
        return th

    def stop(self, th: threading.Thread) -> None:
        self._stop.set()
        th.join()

    def at(self, series: list[float], t: float) -> float:
        """Linear interpolation of a cumulative series at time ``t``."""
        i = bisect.bisect_left(self.times, t)
        if i <= 0:
            return series[0]
        if i >= len(self.times):
            return series[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        f = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        return series[i - 1] + f * (series[i] - series[i - 1])


@dataclass
class Phase:
    name: str
    calls: int
    window_s: float
    cpu_s: float  # measured process tree, in the window
    server_cpu_s: float
    machine_busy_s: float
    steady_rate: float  # calls/s over the middle 80% of replies
    max_inflight: int
    streamed: int
    wall_s: float  # whole process, start to exit
    total_cpu_s: float  # whole process tree, start to exit (imports, startup, log finishing, summary)
    procs: int
    extra: dict[str, Any] = field(default_factory=dict)
    timeline: list[tuple[float, int, float, float]] = field(default_factory=list)  # (start s, replies, cores used, bucket s)

    @property
    def rate(self) -> float:
        return self.calls / self.window_s

    @property
    def cpu_per_call(self) -> float:
        return self.cpu_s / self.calls

    @property
    def others_cores(self) -> float:
        """Cores used by everything else on the machine during the window (other people's work)."""
        return max(0.0, self.machine_busy_s - self.cpu_s - self.server_cpu_s) / self.window_s


def _http(port: int, method: str, path: str) -> dict[str, Any]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def machine_load(seconds: float = 2.0) -> float:
    """Cores busy on the whole machine over the next ``seconds``."""
    b0, _ = _proc_stat_busy()
    time.sleep(seconds)
    return (_proc_stat_busy()[0] - b0) / seconds


def wait_quiet(max_wait: float, threshold: float = 0.3) -> float:
    """Wait (at most ``max_wait`` s) until other work uses under ``threshold`` cores; returns the last load seen."""
    deadline = time.monotonic() + max_wait
    load = machine_load()
    while load > threshold and time.monotonic() < deadline:
        print(f"  (machine busy with other work: {load:.2f} cores; waiting)", flush=True)
        time.sleep(5)
        load = machine_load()
    return load


def run_phase(name: str, cmd: list[str], port: int, server: psutil.Process, env: dict[str, str], quiet: float = 0.0) -> Phase:
    if quiet > 0:
        wait_quiet(quiet)
    _http(port, "POST", "/reset")
    t_start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=HERE.parent)
    mon = Monitor(psutil.Process(proc.pid), server)
    th = mon.start()
    out, err = proc.communicate()
    mon.stop(th)
    wall = time.monotonic() - t_start
    if proc.returncode != 0:
        sys.stderr.write(f"{name}: exit code {proc.returncode}\n{err[-3000:]}\n")
    st = _http(port, "GET", "/stats")
    if not st["ends"]:
        raise RuntimeError(f"{name}: the server saw no model call; stderr:\n{err[-3000:]}")
    t0, t1 = min(st["starts"]), max(st["ends"])
    ends = sorted(st["ends"])
    a, b = ends[len(ends) // 10], ends[(9 * len(ends)) // 10]
    steady = (((9 * len(ends)) // 10) - (len(ends) // 10)) / (b - a) if b > a else float("nan")
    extra: dict[str, Any] = {"stdout_tail": out[-2000:], "stderr_tail": err[-2000:], "returncode": proc.returncode}
    for line in out.splitlines():
        if line.startswith("{"):
            try:
                extra["report"] = json.loads(line)
            except ValueError:
                pass
    bucket = 5.0
    timeline = []
    t = t0
    while t < t1:
        e = min(t + bucket, t1)
        n = bisect.bisect_right(ends, e) - bisect.bisect_right(ends, t)
        cores = (mon.at(mon.tree_cpu, e) - mon.at(mon.tree_cpu, t)) / (e - t) if e > t else 0.0
        timeline.append((t - t0, n, cores, e - t))
        t = e
    return Phase(
        timeline=timeline,
        name=name,
        calls=len(st["ends"]),
        window_s=t1 - t0,
        cpu_s=mon.at(mon.tree_cpu, t1) - mon.at(mon.tree_cpu, t0),
        server_cpu_s=mon.at(mon.server_cpu, t1) - mon.at(mon.server_cpu, t0),
        machine_busy_s=mon.at(mon.machine_busy, t1) - mon.at(mon.machine_busy, t0),
        steady_rate=steady,
        max_inflight=st["max_inflight"],
        streamed=st["streamed"],
        wall_s=wall,
        total_cpu_s=mon.tree_cpu[-1] - mon.tree_cpu[0],
        procs=mon.peak_procs,
        extra=extra,
    )


def peerpres_cmd(workers: int, epochs: int, log_dir: str, max_connections: int = MAX_CONNECTIONS) -> list[str]:
    exe = shutil.which("peerpres", path=str(Path(sys.executable).parent)) or shutil.which("peerpres")
    base = [exe] if exe else [sys.executable, "-m", "peerpres.cli"]
    return base + [
        "run", "paper", "-m", MODEL, "--slice", SLICE, "--epochs", str(epochs), "--workers", str(workers),
        "--log-dir", log_dir,
    ] + (["--max-connections", str(max_connections)] if max_connections > 0 else [])


def show(p: Phase, timeline: bool = False) -> None:
    print(
        f"  {p.name}: {p.calls} calls in {p.window_s:.1f} s -> {p.rate:.1f} calls/s (steady middle 80%: {p.steady_rate:.1f}); "
        f"CPU {p.cpu_s:.1f} s = {p.cpu_per_call * 1000:.1f} ms/call ({p.cpu_s / p.window_s:.2f} cores); "
        f"server in flight max {p.max_inflight}; others on the machine used {p.others_cores:.2f} cores; "
        f"whole process (start to exit): {p.wall_s:.1f} s wall, {p.calls / p.wall_s:.1f} calls/s, "
        f"{p.total_cpu_s / p.calls * 1000:.1f} ms CPU/call",
        flush=True,
    )
    if timeline:
        print("    per 5 s: " + "  ".join(f"{n / d:.0f}/s@{c:.2f}c" for _, n, c, d in p.timeline), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="Small phases, to try the script out (figures not meaningful).")
    ap.add_argument("--no-workers-1", action="store_true", help="Skip the --workers 1 comparison.")
    ap.add_argument("--peerpres-max-connections", type=int, default=MAX_CONNECTIONS,
                    help="--max-connections given to peerpres run (0: Inspect's default, adaptive).")
    ap.add_argument("--timeline", action="store_true", help="Also print calls/s and cores used per 5 s of each phase.")
    ap.add_argument("--wait-quiet", type=float, default=30.0,
                    help="Before each phase, wait up to this many seconds for other work on the machine to stop.")
    a = ap.parse_args()
    bare_samples, epochs2, epochs1 = (60, 4, 2) if a.quick else (360, 34, 17)
    cores = os.cpu_count() or 1

    server_proc = subprocess.Popen(
        [sys.executable, str(HERE / "fake_openai_server.py"), "--port", "0", "--latency", str(LATENCY), "--max-seconds", "480"],
        stdout=subprocess.PIPE, text=True,
    )
    port: int | None = None
    try:
        assert server_proc.stdout is not None
        first = server_proc.stdout.readline().split()
        if len(first) != 2 or first[0] != "PORT":
            raise RuntimeError(f"fake server did not start (said {first!r})")
        port = int(first[1])
        server = psutil.Process(server_proc.pid)
        env = {**os.environ, "LOCAL_BASE_URL": f"http://127.0.0.1:{port}/v1", "LOCAL_API_KEY": "x"}
        print(f"fake endpoint: 127.0.0.1:{port}, {LATENCY * 1000:.0f} ms per request; model {MODEL}; cores: {cores}; "
              f"load average before: {os.getloadavg()[0]:.2f}", flush=True)

        bare = run_phase(
            f"bare react loop, 1 process, max_connections={MAX_CONNECTIONS}, {bare_samples} samples",
            [sys.executable, str(Path(__file__).resolve()), "_bare", str(bare_samples), str(MAX_CONNECTIONS)],
            port, server, env, a.wait_quiet,
        )
        show(bare, a.timeline)
        rep = bare.extra.get("report") or {}
        if rep:
            print(f"    its rusage: user {rep['rusage_user_s']:.1f} s + sys {rep['rusage_sys_s']:.1f} s, peak RSS "
                  f"{rep['rusage_maxrss_mb']:.0f} MB; eval() {rep['eval_wall_s']:.1f} s wall, {rep['eval_cpu_s']:.1f} s CPU; "
                  f"status {rep['status']}, {rep['samples']} samples", flush=True)
        limit = cores / bare.cpu_per_call
        print(f"  limit = {cores} cores / {bare.cpu_per_call * 1000:.1f} ms = {limit:.1f} calls/s", flush=True)

        runs: list[Phase] = []
        for workers, epochs in [(2, epochs2)] + ([] if a.no_workers_1 else [(1, epochs1)]):
            with tempfile.TemporaryDirectory() as d:
                ph = run_phase(
                    f"peerpres run --workers {workers}, {SLICE_CONFIGS} configs x {epochs} epochs, "
                    f"max_connections={a.peerpres_max_connections or 'default'} per worker",
                    peerpres_cmd(workers, epochs, str(Path(d) / "logs"), a.peerpres_max_connections), port, server, env, a.wait_quiet,
                )
            show(ph, a.timeline)
            if ph.extra["returncode"] != 0:
                print("    (peerpres run failed; its output:)\n" + ph.extra["stderr_tail"] + ph.extra["stdout_tail"])
            runs.append(ph)

        print()
        print(f"bare Inspect loop: {bare.rate:.1f} calls/s, {bare.cpu_per_call * 1000:.1f} ms CPU/call; "
              f"limit {limit:.1f} calls/s ({cores} cores)")
        for ph in runs:
            free = max(0.0, cores - ph.others_cores)
            print(f"{ph.name.split(',')[0]}: {ph.rate:.1f} calls/s = {ph.rate / limit:.2f} of the limit, "
                  f"{ph.rate / bare.rate:.2f}x the bare process; {ph.cpu_per_call * 1000:.1f} ms CPU/call "
                  f"({ph.cpu_per_call / bare.cpu_per_call:.2f}x bare); other work left it {free:.2f} cores: "
                  f"{ph.rate / (free / bare.cpu_per_call):.2f} of the limit on those")
        if runs:
            r = runs[0].rate / limit
            print(f"target (--workers 2 >= 0.9 of the limit): {'met' if r >= 0.9 else 'not met'} ({r:.2f})")
        print(f"fake server CPU: {sum(p.server_cpu_s for p in [bare, *runs]) / sum(p.calls for p in [bare, *runs]) * 1000:.2f} ms/request; "
              f"streamed requests: {sum(p.streamed for p in [bare, *runs])}")
    finally:
        if port is not None:
            with contextlib.suppress(OSError):  # the server may already be gone; it stops by itself anyway
                _http(port, "POST", "/shutdown")
        try:
            server_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server_proc.terminate()


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "_bare":
        bare_main(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
