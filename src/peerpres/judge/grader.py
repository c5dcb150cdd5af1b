"""Calling the grader: one judge prompt in, a validated verdict or an undetermined reason out.

The grader is Inspect's ``grader`` model role unless a model is passed explicitly. Every failure mode (no
grader, an exception, a timeout, a refusal, prose, JSON with missing or invalid fields) ends as a
``JudgeOutcome`` with ``verdict=None`` and a ``reason``; the caller turns that into ``unknown(reason)``.
Nothing here ever produces a default "no".
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import anyio
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelOutput,
    get_model,
    model_roles,
)
from pydantic import BaseModel, ValidationError

from peerpres.world.toolbox import valid_text

from .prompts import load_prompt
from .settings import JudgeSettings
from .verdicts import VERDICT_MODELS

NO_GRADER = "no grader configured"

_REFUSAL_RE = re.compile(
    r"\b(I\s*(?:can(?:no|')t|cannot|won't|will not|am (?:not able|unable)|'m (?:not able|unable))\s+"
    r"(?:help|assist|comply|do that|provide|evaluate|review|answer)|I must decline|I'm sorry, but)",
    re.IGNORECASE,
)


@dataclass
class JudgeOutcome:
    judge: str
    model: str | None
    verdict: BaseModel | None
    reason: str | None = None
    attempts: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict is not None

    def record(self) -> dict[str, Any]:
        """What goes into a label's ``state``: enough to audit the verdict."""
        return {
            "judge": self.judge,
            "model": self.model,
            "attempts": self.attempts,
            "verdict": self.verdict.model_dump() if self.verdict is not None else None,
            "failures": self.failures,
        }


def resolve_grader(settings: JudgeSettings, grader: Model | str | None = None) -> Model | None:
    """The grader to use: an explicit model, else ``settings.grader``, else the ``grader`` role, else None."""
    if isinstance(grader, Model):
        return grader
    name = grader or settings.grader
    if name:
        return get_model(name)
    role = model_roles().get("grader")
    if isinstance(role, list):
        return role[0] if role else None
    return role


def model_label(model: Model) -> str:
    return str(model)


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice: which value the grader meant is unknown."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise DuplicateKeyError(f"the grader's JSON names key(s) {', '.join(map(repr, dup))} more than once")
    return dict(pairs)


# Duplicate keys are refused (json's default keeps the last one silently: {"refused": true, "refused": false}
# would be read as false).
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys)


def json_values(text: str) -> list[Any]:
    """Every top-level JSON object or array in ``text``, in order (prose and code fences around them ignored).

    A value nested inside another is not counted separately; a ``{`` or ``[`` that does not start valid JSON
    is skipped. Raises ``RecursionError`` as soon as brackets nest deeper than Python's parser goes (no verdict
    is nested so deep; trying every later bracket would take quadratic time on a degenerate reply), and
    ``DuplicateKeyError`` for an object that names a key twice.
    """
    out: list[Any] = []
    i, n = 0, len(text)
    while i < n:
        j = min((k for k in (text.find("{", i), text.find("[", i)) if k >= 0), default=-1)
        if j < 0:
            break
        try:
            value, end = _DECODER.raw_decode(text, j)
        except json.JSONDecodeError:
            i = j + 1
            continue
        out.append(value)
        i = end
    return out


def extract_json(text: str) -> Any:
    """The one JSON object in a reply (bare, fenced, or inside prose). Raises ValueError for none or several.

    Bracketed asides that hold no object (``[1]``, ``[]``) are ignored. A list that holds objects counts as
    one candidate: returned as is when it is the only one (the caller rejects it as not an object).
    """
    try:
        return _DECODER.decode(text)  # the whole reply is one JSON value (of any type; the caller checks it)
    except (json.JSONDecodeError, RecursionError):
        pass
    values = [v for v in json_values(text) if isinstance(v, dict) or (isinstance(v, list) and any(isinstance(x, dict) for x in v))]
    if not values:
        raise ValueError("no JSON object in the grader's reply")
    if len(values) > 1:
        raise ValueError(f"the grader's reply holds {len(values)} JSON values; a verdict must be exactly one object")
    return values[0]


def parse_verdict(judge: str, text: str) -> tuple[BaseModel | None, str | None]:
    """Validate one reply strictly against the judge's schema. Returns (verdict, None) or (None, reason).

    The reply must hold exactly one JSON object, and its fields must have the schema's exact types
    (``verdicts.py``); more than one JSON value, a list, or a mistyped field gives (None, reason).
    """
    vm = VERDICT_MODELS[judge]
    text = valid_text(text)  # a lone surrogate in a reason or evidence would make the Inspect log unwritable
    try:
        data = _valid_strings(extract_json(text))
    except DuplicateKeyError as e:
        return None, f"{e}; a verdict must name each field once"
    except RecursionError:
        return None, "the grader's JSON is nested too deeply to be a verdict"
    except ValueError as e:
        snippet = " ".join(text.split())[:160]
        if not text.strip():
            return None, "grader returned an empty reply"
        if "JSON values" in str(e):
            return None, f"{e}: {snippet!r}"
        if _REFUSAL_RE.search(text):
            return None, f"grader refused: {snippet!r}"
        return None, f"grader reply is not JSON: {snippet!r}"
    if not isinstance(data, dict):
        return None, f"grader JSON is a {type(data).__name__}, not an object"
    try:
        return vm.model_validate(data), None
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'object'}: {err['msg']}" for err in e.errors())
        return None, f"grader JSON failed validation ({problems})"


def _valid_strings(v: Any) -> Any:
    """``v`` with every lone surrogate in its strings (a ``\\ud800`` escape in the JSON) replaced by U+FFFD."""
    if isinstance(v, str):
        return valid_text(v)
    if isinstance(v, list):
        return [_valid_strings(x) for x in v]
    if isinstance(v, dict):
        return {valid_text(k): _valid_strings(x) for k, x in v.items()}
    return v


RETRY_NOTE = (
    "That reply could not be used: {why}. Answer again with exactly one JSON object in the format the task asks "
    "for, with the exact types it names, and nothing else."
)


def generate_config(settings: JudgeSettings) -> GenerateConfig:
    """The GenerateConfig of every grader call: temperature, seed and the per-call timeout.

    ``settings.timeout`` becomes Inspect's ``attempt_timeout`` (abandon an attempt) and ``timeout`` (stop
    retrying after that long), rounded up to whole seconds because Inspect's timeouts are integers. With
    ``timeout=None`` Inspect's own defaults apply.
    """
    extra: dict[str, Any] = {}
    if settings.timeout is not None:
        seconds = max(1, math.ceil(settings.timeout))
        extra = {"attempt_timeout": seconds, "timeout": seconds}
    return GenerateConfig(temperature=settings.temperature, seed=settings.seed, **extra)


def _outer_bound(timeout: float) -> float:
    return 2 * max(1, math.ceil(timeout)) + 10


def _is_timeout(e: BaseException) -> bool:
    """Inspect's AttemptTimeoutError, a TimeoutError, or a retry wrapper around one."""
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, TimeoutError) or type(e).__name__ in ("AttemptTimeoutError", "StreamIdleTimeoutError"):
            return True
        last = getattr(e, "last_attempt", None)  # tenacity.RetryError
        inner = last.exception() if last is not None and hasattr(last, "exception") else None
        e = inner or e.__cause__ or e.__context__  # type: ignore[assignment]
    return False


async def run_judge(
    judge: str,
    variables: dict[str, Any],
    grader: Model | None,
    settings: JudgeSettings,
) -> JudgeOutcome:
    """Render the judge's prompt, ask the grader, validate; retry up to ``settings.max_retries`` times."""
    prompt = load_prompt(judge).render(**variables)
    if grader is None:
        return JudgeOutcome(judge, None, None, reason=NO_GRADER)
    name = model_label(grader)
    config = generate_config(settings)
    outcome = JudgeOutcome(judge, name, None)
    # a retry after an unusable reply shows the grader that reply and why it was refused: at temperature 0 with a
    # fixed seed, resending the same prompt would get the same reply back
    conversation: list[ChatMessage] = [ChatMessageUser(content=prompt)]
    for attempt in range(settings.max_retries + 1):
        outcome.attempts = attempt + 1
        try:
            if settings.timeout is None:
                output = await grader.generate(conversation, config=config)
            else:
                # Inspect's attempt_timeout cancels the call; this outer bound only catches a provider that
                # ignores cancellation (it must never hang a run)
                with anyio.fail_after(_outer_bound(settings.timeout)):
                    output = await grader.generate(conversation, config=config)
        except Exception as e:  # noqa: BLE001 - any grader failure becomes an undetermined verdict, with its reason
            if _is_timeout(e):
                outcome.failures.append(f"grader timed out (no answer within {settings.timeout:g} s)")
            else:
                outcome.failures.append(valid_text(f"grader error: {type(e).__name__}: {e}"[:300]))
            continue
        if not isinstance(output, ModelOutput):
            outcome.failures.append(f"grader returned no model output ({type(output).__name__})")
            continue
        if output.error:
            outcome.failures.append(valid_text(f"grader error: {output.error}"[:300]))
            continue
        if output.stop_reason == "content_filter":
            outcome.failures.append("grader refused (content filter)")
            continue
        verdict, why = parse_verdict(judge, output.completion)
        if verdict is not None:
            outcome.verdict = verdict
            return outcome
        outcome.failures.append(why or "unparseable reply")
        conversation = [
            ChatMessageUser(content=prompt),
            ChatMessageAssistant(content=valid_text(output.completion[:4000])),
            ChatMessageUser(content=RETRY_NOTE.format(why=why or "it could not be parsed")),
        ]
    outcome.reason = f"{outcome.failures[-1]} (after {outcome.attempts} attempt{'s' if outcome.attempts > 1 else ''})"
    return outcome
