"""Per-episode figures of a real-model run, read from Inspect logs only.

For each sample: the agent's turns (model calls in the episode loop), how many of them made at least one
valid tool call (a call whose tool result is not a parsing error: the JSON parsed, the tool was offered and
its arguments fit the schema), the stop reason recorded by the agent loop (``end_task``, ``blank_turns``,
``max_iterations``, ``interrupted: ...``), the sample's error or limit, the outcome from the labels scorer,
the agent's and the grader's tokens (from the model events' roles), and the episode's wall time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log

from ..episode import record_from_store


@dataclass
class Episode:
    """Figures of one sample (tokens are input + output tokens; seconds are wall time)."""

    log: str
    task: str
    sample_id: str
    epoch: int
    model: str
    turns: int = 0
    valid_turns: int = 0  # turns with >= 1 valid tool call
    calls: int = 0
    valid_calls: int = 0
    tools: list[str] = field(default_factory=list)  # valid calls in order
    stop: str = "unknown"  # the loop's reason (end_task, blank_turns, max_iterations, limit:<type>, error, ...)
    error: str | None = None
    limit: str | None = None
    outcome: str | None = None
    agent_tokens: int = 0
    grader_tokens: int = 0
    grader_calls: int = 0
    seconds: float | None = None
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def valid_rate(self) -> float | None:
        return self.valid_turns / self.turns if self.turns else None


def episode_of(log: EvalLog, sample: EvalSample) -> Episode:
    ep = Episode(
        log=Path(log.location).name if log.location else "",
        task=log.eval.task.split("/")[-1],
        sample_id=str(sample.id),
        epoch=sample.epoch,
        model=log.eval.model,
    )
    tool_errors = {}
    for m in sample.messages:
        if m.role == "tool":
            tool_errors[m.tool_call_id] = m.error
    for m in sample.messages:
        if m.role != "assistant":
            continue
        ep.turns += 1
        ok = False
        for c in m.tool_calls or []:
            ep.calls += 1
            err = tool_errors.get(c.id)
            if c.parse_error is None and (err is None or err.type != "parsing") and c.id in tool_errors:
                ep.valid_calls += 1
                ep.tools.append(c.function)
                ok = True
        ep.valid_turns += ok
    record = record_from_store(sample.store or {})
    stop = record.stop or {}
    ep.stop = str(stop.get("reason", "unknown"))
    if stop.get("iterations"):
        ep.turns = min(ep.turns, int(stop["iterations"])) if ep.turns else 0
    if sample.error is not None:
        ep.error = sample.error.message.splitlines()[0][:300] if sample.error.message else "error"
        ep.stop = "error"
    if sample.limit is not None:
        ep.limit = f"{sample.limit.type} limit"
        if not ep.stop.startswith("limit"):
            ep.stop = f"limit:{sample.limit.type}"
    for ev in sample.events:
        if getattr(ev, "event", None) != "model" or ev.output is None or ev.output.usage is None:
            continue
        n = ev.output.usage.input_tokens + ev.output.usage.output_tokens
        if getattr(ev, "role", None) == "grader":
            ep.grader_tokens += n
            ep.grader_calls += 1
        else:
            ep.agent_tokens += n
    ep.seconds = sample.total_time
    if isinstance(record.outcome, dict):
        ep.outcome = record.outcome.get("value")
    for score in (sample.scores or {}).values():
        md = score.metadata or {}
        out = md.get("outcome")
        if isinstance(out, dict):
            ep.outcome = out.get("value")
        ep.labels = md.get("labels") or {}
    return ep


def read_episodes(log_dir: str | Path) -> list[Episode]:
    """Every sample of every log under ``log_dir`` (newest run of a task wins nothing: all are kept)."""
    eps = []
    for info in list_eval_logs(str(log_dir)):
        log = read_eval_log(info)
        for s in log.samples or []:
            eps.append(episode_of(log, s))
    return eps


def summarise(eps: list[Episode]) -> dict[str, Any]:
    """Totals over episodes: turn-level valid tool-call rate, stop reasons, outcomes, tokens and time."""
    turns = sum(e.turns for e in eps)
    valid = sum(e.valid_turns for e in eps)
    secs = sorted(e.seconds for e in eps if e.seconds is not None)
    toks = sorted(e.agent_tokens for e in eps)

    def med(xs: list[float] | list[int]) -> float | None:
        return (xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2) if xs else None

    return {
        "episodes": len(eps),
        "turns": turns,
        "valid_turns": valid,
        "valid_turn_rate": valid / turns if turns else None,
        "calls": sum(e.calls for e in eps),
        "valid_calls": sum(e.valid_calls for e in eps),
        "episodes_with_valid_call": sum(1 for e in eps if e.valid_calls),
        "stop": dict(Counter(e.stop for e in eps).most_common()),
        "outcome": dict(Counter(str(e.outcome) for e in eps).most_common()),
        "per_task": {
            t: {"episodes": sum(1 for e in eps if e.task == t),
                "valid_turn_rate": (sum(e.valid_turns for e in eps if e.task == t)
                                    / max(1, sum(e.turns for e in eps if e.task == t)))}
            for t in sorted({e.task for e in eps})
        },
        "seconds_median": med(secs),
        "seconds_total": sum(secs),
        "agent_tokens_median": med(toks),
        "grader_tokens_total": sum(e.grader_tokens for e in eps),
        "errors": [e.error for e in eps if e.error],
    }


def as_rows(eps: list[Episode]) -> list[dict[str, Any]]:
    return [asdict(e) | {"valid_rate": e.valid_rate} for e in eps]
