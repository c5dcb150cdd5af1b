"""Per-episode figures of a real-model run, read from Inspect logs only.

Definitions (issue 16's target "at least 80% of the local model's turns are valid tool calls"):

- a **turn** is one reply of the agent in the episode's conversation (one assistant message = one model
  call of the agent loop; the grader's calls are not turns). Turns without any tool call count as turns.
- a **valid call** is a tool call that Inspect accepted and ran: it names an offered tool, its arguments
  parsed as JSON (no ``parse_error``) and fit the tool's schema (no required argument missing, no extra one,
  right types), i.e. its tool result exists and carries no ``parsing`` error. A call the tool itself answered
  with an error of the world (no such file) is valid: the call was well formed.
- a **valid tool-call turn** (the headline rate, ``valid_turn_rate``) is a turn with at least one call, ALL
  of whose calls are valid. ``any_valid_turn_rate`` is the looser count of turns with at least one valid
  call (a turn that writes five calls of which one is valid counts there, not in the headline).

For each sample: turns, valid tool-call turns, calls and how each invalid call failed (``invalid``: extra
argument, missing required argument, arguments not JSON, wrong type or other schema error), the stop reason recorded by the agent loop (``end_task``, ``blank_turns``,
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
    valid_turns: int = 0  # turns with >= 1 call, all of them valid (the headline definition)
    any_valid_turns: int = 0  # turns with >= 1 valid call
    no_call_turns: int = 0
    multi_call_turns: int = 0  # turns with more than one call
    calls: int = 0
    valid_calls: int = 0
    invalid: dict[str, int] = field(default_factory=dict)  # invalid calls by kind (invalid_kind)
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


def invalid_kind(parse_error: str | None, tool_error: Any) -> str | None:
    """Why a call is invalid (None when it is valid); ``tool_error`` is its tool message's ``error``.

    ``not JSON`` (arguments did not parse), ``extra argument``, ``missing argument``, ``wrong argument name``
    (both: a required one missing and another given), ``other schema``
    (wrong type, unknown tool, ...), ``no result`` (the call never got a tool message: the sample ended).
    """
    if parse_error is not None:
        return "not JSON"
    if tool_error is _NO_RESULT:
        return "no result"
    if tool_error is None or tool_error.type != "parsing":
        return None
    msg = tool_error.message
    if "Error parsing the following tool call arguments" in msg:
        return "not JSON"
    extra, missing = "Additional properties are not allowed" in msg, "is a required property" in msg
    if extra and missing:
        return "wrong argument name"
    if extra:
        return "extra argument"
    if missing:
        return "missing argument"
    return "other schema"


_NO_RESULT = object()


def episode_of(log: EvalLog, sample: EvalSample) -> Episode:
    ep = Episode(
        log=Path(log.location).name if log.location else "",
        task=log.eval.task.split("/")[-1],
        sample_id=str(sample.id),
        epoch=sample.epoch,
        model=log.eval.model,
    )
    # each reply's tool results are the tool messages that follow it (matched by id within that stretch, so
    # call ids reused across turns cannot borrow another turn's result)
    results: list[dict[str, Any]] = []
    for m in sample.messages:
        if m.role == "assistant":
            results.append({})
        elif m.role == "tool" and results:
            results[-1][m.tool_call_id] = m.error
    record = record_from_store(sample.store or {})
    stop = record.stop or {}
    # the episode's turns only: an interview after the episode (spec 5.3) adds replies that are not turns
    max_turns = int(stop.get("iterations") or 0) or None
    invalid: Counter[str] = Counter()
    replies = [m for m in sample.messages if m.role == "assistant"]
    for m, tool_errors in zip(replies, results, strict=True):
        if max_turns is not None and ep.turns >= max_turns:
            break
        ep.turns += 1
        calls = m.tool_calls or []
        ep.no_call_turns += not calls
        ep.multi_call_turns += len(calls) > 1
        n_valid = 0
        for c in calls:
            ep.calls += 1
            kind = invalid_kind(c.parse_error, tool_errors.get(c.id, _NO_RESULT))
            if kind is None:
                n_valid += 1
                ep.tools.append(c.function)
            else:
                invalid[kind] += 1
        ep.valid_calls += n_valid
        ep.any_valid_turns += n_valid > 0
        ep.valid_turns += bool(calls) and n_valid == len(calls)
    ep.invalid = dict(invalid)
    ep.stop = str(stop.get("reason", "unknown"))
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
    any_valid = sum(e.any_valid_turns for e in eps)
    invalid: Counter[str] = Counter()
    for e in eps:
        invalid.update(e.invalid)
    secs = sorted(e.seconds for e in eps if e.seconds is not None)
    toks = sorted(e.agent_tokens for e in eps)

    def med(xs: list[float] | list[int]) -> float | None:
        return (xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2) if xs else None

    return {
        "episodes": len(eps),
        "turns": turns,
        "valid_turns": valid,
        "valid_turn_rate": valid / turns if turns else None,
        "any_valid_turns": any_valid,
        "any_valid_turn_rate": any_valid / turns if turns else None,
        "no_call_turns": sum(e.no_call_turns for e in eps),
        "multi_call_turns": sum(e.multi_call_turns for e in eps),
        "calls": sum(e.calls for e in eps),
        "valid_calls": sum(e.valid_calls for e in eps),
        "invalid_calls": dict(invalid.most_common()),
        "episodes_with_valid_call": sum(1 for e in eps if e.valid_calls),
        "stop": dict(Counter(e.stop for e in eps).most_common()),
        "outcome": dict(Counter(str(e.outcome) for e in eps).most_common()),
        "per_task": {
            t: {"episodes": sum(1 for e in eps if e.task == t),
                "valid_turn_rate": (sum(e.valid_turns for e in eps if e.task == t)
                                    / max(1, sum(e.turns for e in eps if e.task == t)))}
            for t in sorted({e.task for e in eps})
        },
        "turns_median": med(sorted(e.turns for e in eps)),
        "seconds_median": med(secs),
        "seconds_min": secs[0] if secs else None,
        "seconds_max": secs[-1] if secs else None,
        "seconds_total": sum(secs),
        "agent_tokens_median": med(toks),
        "agent_tokens_min": toks[0] if toks else None,
        "agent_tokens_max": toks[-1] if toks else None,
        "grader_tokens_median": med(sorted(e.grader_tokens for e in eps)),
        "grader_tokens_total": sum(e.grader_tokens for e in eps),
        "errors": [e.error for e in eps if e.error],
    }


def as_rows(eps: list[Episode]) -> list[dict[str, Any]]:
    return [asdict(e) | {"valid_rate": e.valid_rate} for e in eps]
