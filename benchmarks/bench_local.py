"""(d) A real local model: tokens/s through a peerpres episode vs the same requests sent straight to llama.cpp.

1. Starts (or reuses) ``peerpres local-model serve`` for the 0.5B weights.
2. Runs one peerpres episode on ``peerpres/local/<weights>`` (tampering, peer subject, good peer, file_only,
   factual; the task's temperature 1.0 with seed 1; no grader, so the scorer makes no model call), logging the
   raw requests.
3. Sends the episode's recorded request bodies, in the same order, straight to the server's
   ``/v1/chat/completions`` (urllib, one at a time), and times them. Before the episode and before the replay a
   short unrelated request empties llama.cpp's prefix cache, so both routes start from the same cache state.
4. Prints, for both routes: prompt and generated tokens, wall seconds, tokens/s; the server's own prompt and
   generation speeds (from its ``llama_perf_context_print`` lines); and episodes per hour.

The ratio is direct wall time ÷ peerpres wall time, over the agent loop of the episode (first model call's
start to last model call's end: every model call plus everything peerpres does between calls) and over the
model calls alone. Target ≥ 0.9. Prints figures, asserts nothing. The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from peerpres.local_model import server
from peerpres.local_model.weights import DEFAULT_MODEL

PERF = re.compile(r"(prompt eval|eval) time =\s*([\d.]+) ms /\s*(\d+) (?:tokens|runs)")


def server_speeds(log_file: str, start_offset: int) -> dict[str, float]:
    """Prompt and generation tokens/s from the server log's llama_perf lines written after ``start_offset``."""
    text = Path(log_file).read_bytes()[start_offset:].decode(errors="replace")
    acc = {"prompt eval": [0.0, 0], "eval": [0.0, 0]}
    for kind, ms, n in PERF.findall(text):
        acc[kind][0] += float(ms)
        acc[kind][1] += int(n)
    return {
        "prompt_tok_s": acc["prompt eval"][1] / (acc["prompt eval"][0] / 1000) if acc["prompt eval"][0] else float("nan"),
        "gen_tok_s": acc["eval"][1] / (acc["eval"][0] / 1000) if acc["eval"][0] else float("nan"),
        "prompt_tokens_evaluated": acc["prompt eval"][1],
        "gen_tokens": acc["eval"][1],
    }


def run_episode(info: server.ServerInfo, log_dir: str, max_iterations: int, scenario: str = "tampering") -> tuple[list[dict], dict]:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.log import read_eval_log

    from peerpres import tasks

    args = {"dataset": "factual"} if scenario in ("tampering", "misrep_evaluation", "alignment_faking") else {}
    task = getattr(tasks, scenario)(subject="peer", relation="good", instantiation="file_only", max_iterations=max_iterations, **args)
    t0 = time.monotonic()
    [log] = inspect_eval(
        task, model=info.inspect_model, model_base_url=info.base_url, log_dir=log_dir, display="none",
        seed=1, log_model_api=True,  # the task's temperature (1.0); the seed makes the replay sample the same tokens
    )
    wall = time.monotonic() - t0
    log = read_eval_log(log.location, resolve_attachments=True)  # the exact request bodies, not attachment refs
    [sample] = log.samples
    calls = []
    for ev in sample.events:
        if ev.event != "model" or ev.call is None or ev.output is None or ev.output.usage is None:
            continue
        calls.append({
            "request": ev.call.request,
            "seconds": (ev.completed - ev.timestamp).total_seconds(),
            "start": ev.timestamp.timestamp(),
            "end": ev.completed.timestamp(),
            "prompt_tokens": ev.output.usage.input_tokens,
            "completion_tokens": ev.output.usage.output_tokens,
        })
    loop = (calls[-1]["end"] - calls[0]["start"]) if calls else float("nan")
    return calls, {"eval_wall_s": wall, "loop_s": loop, "turns": len(calls), "sample_s": sample.total_time}


def flush_prefix_cache(info: server.ServerInfo) -> None:
    """One short unrelated request, so that the next request finds no shared prefix in llama.cpp's KV cache."""
    body = {"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 2, "temperature": 0}
    req = urllib.request.Request(f"{info.base_url}/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        r.read()


def replay_direct(info: server.ServerInfo, calls: list[dict]) -> list[dict]:
    flush_prefix_cache(info)  # the episode's first request also started from an unrelated cache
    out = []
    for c in calls:
        body = {k: v for k, v in c["request"].items() if k not in ("extra_headers", "extra_body")}
        body.update(c["request"].get("extra_body") or {})  # the openai client sends extra_body's keys top-level (the grammar)
        data = json.dumps(body).encode()
        req = urllib.request.Request(f"{info.base_url}/chat/completions", data=data, headers={"Content-Type": "application/json"})
        t0 = time.monotonic()
        with urllib.request.urlopen(req, timeout=600) as r:
            resp = json.loads(r.read())
        dt = time.monotonic() - t0
        u = resp.get("usage") or {}
        out.append({"seconds": dt, "prompt_tokens": u.get("prompt_tokens", 0), "completion_tokens": u.get("completion_tokens", 0)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--max-iterations", type=int, default=8)
    ap.add_argument("--scenario", default="tampering", help="a scenario task name (misrep_evaluation runs several turns)")
    args = ap.parse_args()
    from peerpres.local_model.weights import WeightsError

    started = server.recorded() is None
    try:
        info = server.serve(args.model)
    except (WeightsError, server.ServerError) as e:
        print(f"bench_local: not set up ({e}); run `make local-model` first. No figures.")
        return
    import psutil

    srv = psutil.Process(info.pid)
    me = psutil.Process()

    def cpu(p: psutil.Process) -> float:
        t = p.cpu_times()
        return t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)

    try:
        with tempfile.TemporaryDirectory() as tmp:
            flush_prefix_cache(info)
            off = Path(info.log_file).stat().st_size
            s0, m0 = cpu(srv), cpu(me)
            calls, ep = run_episode(info, tmp, args.max_iterations, args.scenario)
            s1, m1 = cpu(srv), cpu(me)
            direct = replay_direct(info, calls)
            s2, m2 = cpu(srv), cpu(me)
    finally:
        if started:
            server.stop()
    # the server's stdout is block-buffered, so its timing lines are only complete once it has stopped; they
    # cover both routes together (which is fine: the server does the same work for both)
    speeds = server_speeds(info.log_file, off)
    tok_p = sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls)
    tok_d = sum(c["prompt_tokens"] + c["completion_tokens"] for c in direct)
    t_calls = sum(c["seconds"] for c in calls)
    t_direct = sum(c["seconds"] for c in direct)
    gen_p = sum(c["completion_tokens"] for c in calls)
    gen_d = sum(c["completion_tokens"] for c in direct)
    print(f"model: {info.inspect_model} ({info.n_threads} threads, n_ctx {info.n_ctx}); {args.scenario}; {ep['turns']} model calls")
    print(f"{'route':<34} {'tokens':>8} {'gen tok':>8} {'wall s':>8} {'tok/s':>8}")
    print(f"{'peerpres episode, agent loop':<34} {tok_p:>8} {gen_p:>8} {ep['loop_s']:>8.1f} {tok_p / ep['loop_s']:>8.1f}")
    print(f"{'peerpres episode, model calls':<34} {tok_p:>8} {gen_p:>8} {t_calls:>8.1f} {tok_p / t_calls:>8.1f}")
    print(f"{'same requests straight to server':<34} {tok_d:>8} {gen_d:>8} {t_direct:>8.1f} {tok_d / t_direct:>8.1f}")
    print(
        f"server-side speeds (llama_perf lines, both routes{'' if started else '; partial: server kept running'}): "
        f"prompt {speeds['prompt_tok_s']:.1f} tok/s ({speeds['prompt_tokens_evaluated']} tokens evaluated, the rest "
        f"from the prefix cache), generation {speeds['gen_tok_s']:.1f} tok/s"
    )
    print(
        f"ratio direct ÷ peerpres (time for the same tokens): agent loop {t_direct / ep['loop_s']:.2f}, "
        f"model calls {t_direct / t_calls:.2f} (target ≥ 0.9)"
    )
    if gen_p != gen_d:
        print(f"note: the replay generated {gen_d} tokens vs {gen_p} in the episode (not bit-identical)")
    print("per call (peerpres model call vs the same request straight to the server; gap = time in the agent loop")
    print("between this call's end and the next call's start: tools, logging, Inspect):")
    print(f"{'call':>4} {'prompt':>7} {'gen':>4} {'peerpres s':>10} {'direct s':>9} {'ratio':>6} {'gap s':>6}")
    for i, (c, d) in enumerate(zip(calls, direct, strict=True)):
        gap = calls[i + 1]["start"] - c["end"] if i + 1 < len(calls) else 0.0
        print(f"{i + 1:>4} {c['prompt_tokens']:>7} {c['completion_tokens']:>4} {c['seconds']:>10.2f} {d['seconds']:>9.2f} "
              f"{d['seconds'] / c['seconds']:>6.2f} {gap:>6.2f}")
    print(f"CPU seconds (user+sys): server {s1 - s0:.1f} during the episode, {s2 - s1:.1f} during the replay; "
          f"this process (peerpres + Inspect, or urllib) {m1 - m0:.1f} and {m2 - m1:.1f}")
    print(f"server CPU share of wall time: episode {(s1 - s0) / ep['eval_wall_s']:.0%}, replay {(s2 - s1) / t_direct:.0%} "
          f"(the rest it waited for a core: load from other processes)")
    gaps = sum(calls[i + 1]["start"] - calls[i]["end"] for i in range(len(calls) - 1))
    print(f"time in the agent loop between model calls (tools, logging, Inspect): {gaps:.2f} s in total")
    print(
        f"episode: {ep['sample_s']:.0f} s sample time ({ep['eval_wall_s']:.0f} s with Inspect's setup) -> "
        f"{3600 / ep['sample_s']:.1f} episodes/hour at {args.max_iterations} turns max, no grader"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
