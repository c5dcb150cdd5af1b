"""Checks of user-given parameters, made before any model call, each failing with one line.

The line names the parameter, the bad value and what is allowed. ``ParameterError`` is an Inspect
``PrerequisiteError``, so ``inspect eval peerpres/<task> -T ...`` prints it without a traceback, and a
``ValueError``, so Python callers can catch it like the ``ConditionError`` it also is.

- ``checked_task``: decorator for the ``@task`` functions; it rejects unknown ``-T`` names (Inspect itself only
  warns and drops them, then runs the whole matrix), values outside an axis, untyped values and ranges.
- ``check_task_args``: the same check for a dict of task arguments.
- ``check_range``: a numeric option against a range (``peerpres run --workers 0``, ``--alpha 5``).
- ``slice_selects``: every value of a ``--slice`` selects at least one config of the preset.
- ``model_name_warning``: a model name Inspect's model database does not know, with the closest known names.
"""

from __future__ import annotations

import difflib
import functools
import inspect as pyinspect
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, get_args

from inspect_ai._util.error import PrerequisiteError

from .conditions import (
    PARAPHRASES,
    Ablation,
    ConditionError,
    Dataset,
    Harness,
    Instantiation,
    LivePeer,
    Mitigation,
    Monitoring,
    PeerIdentity,
    PeerMode,
    Relation,
    Reviewed,
    Scratchpad,
    Subject,
    Violation,
)


class ParameterError(PrerequisiteError, ConditionError):
    """A parameter value that cannot run; ``str(e)`` is one line naming the parameter, value and what is allowed."""

    def __init__(self, message: str) -> None:
        line = " ".join(str(message).split())
        PrerequisiteError.__init__(self, line)
        ConditionError.__init__(self, line)

    def __str__(self) -> str:
        return str(self.message)


# Axes whose values are names; each accepts one value or a comma list.
CHOICES: dict[str, tuple[str, ...]] = {
    "subject": get_args(Subject),
    "relation": get_args(Relation),
    "instantiation": get_args(Instantiation),
    "dataset": get_args(Dataset),
    "monitoring": get_args(Monitoring),
    "peer_identity": get_args(PeerIdentity),
    "scratchpad": get_args(Scratchpad),
    "harness": get_args(Harness),
    "ablation": get_args(Ablation),
    "mitigation": get_args(Mitigation),
    "peer_mode": get_args(PeerMode),
    "live_peer": get_args(LivePeer),
    "reviewed": get_args(Reviewed),
    "violation": get_args(Violation),
    "refusal_rule": ("uniform", "paper"),
}
BOOLS = ("memory_hard", "extended_identities")
# Parameters that take one value: Inspect splits `-T agent_family=a,b` into a list, which must not become "['a', 'b']".
SINGLE = ("agent_family", "interview", "refusal_rule", "harness", "extended_identities")
# name -> (least value, greatest value or None)
INTS: dict[str, tuple[int, int | None]] = {"max_iterations": (1, None), "epochs": (1, None)}
FLOATS: dict[str, tuple[float, float | None]] = {"temperature": (0.0, 2.0), "judge_timeout": (0.0, None)}
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [x.strip() for x in value.split(",") if x.strip()]
    if isinstance(value, list | tuple | set):
        return list(value)
    return [value]


def _one(value: Any) -> Any:
    return value[0] if len(value) == 1 else value


def as_bool(name: str, value: Any) -> bool:
    """``True``/``False``, 1/0 and true/false/yes/no/on/off (any case) -> bool; anything else raises ``ParameterError``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ParameterError(f"{name}={value!r} is not a boolean; allowed: true, false.")


def _threshold(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().lower() == "none":
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        f = float(value)
        if f != int(f):
            raise TypeError
        t = int(f)
    except (TypeError, ValueError):
        raise ParameterError(f"threshold={value!r} is not a whole number; allowed: 1..100 (the paper uses 80 or 90).") from None
    if not 1 <= t <= 100:
        raise ParameterError(f"threshold={value!r} is out of range; allowed: 1..100 (the paper uses 80 or 90).")
    return t


def check_range(name: str, value: Any, low: float | None = None, high: float | None = None, *, kind: type = float,
                low_open: bool = False, high_open: bool = False) -> Any:
    """``value`` converted to ``kind`` and inside [low, high] (open ends where asked), or ``ParameterError``."""
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        v = kind(value)
        if kind is int and isinstance(value, float | str) and float(value) != v:
            raise TypeError
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"{name}={value!r} is not a {'whole ' if kind is int else ''}number; allowed: {_range_text(low, high, low_open, high_open)}.") from None
    if not math.isfinite(v):
        # NaN passes every comparison below; inf is no number of seconds, samples or probability
        raise ParameterError(f"{name}={value!r} is not a finite number; allowed: {_range_text(low, high, low_open, high_open)}.")
    bad_low = low is not None and (v <= low if low_open else v < low)
    bad_high = high is not None and (v >= high if high_open else v > high)
    if bad_low or bad_high:
        raise ParameterError(f"{name}={value!r} is out of range; allowed: {_range_text(low, high, low_open, high_open)}.")
    return v


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return "any number"


def _interview(value: Any) -> str:
    import yaml

    from .interview import QuestionSetError, load_question_set

    try:
        load_question_set(str(value))
    except (QuestionSetError, yaml.YAMLError, OSError, UnicodeDecodeError, ValueError, TypeError) as e:
        raise ParameterError(f"interview={value!r}: {e}") from None
    return str(value)


def suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def check_task_args(task_name: str, known: Iterable[str], args: dict[str, Any]) -> dict[str, Any]:
    """Normalised copy of ``args`` for the task ``task_name`` whose parameters are ``known``.

    Raises ``ParameterError`` for an unknown name, a value outside an axis (``relation=good,bogus``), a value of
    the wrong type (``threshold=abc``, ``memory_hard=maybe``) or out of range (``max_iterations=0``). Booleans
    given as 1/0/yes/no become ``True``/``False`` (so they make the same config id as ``true``/``false``).
    """
    known = list(known)
    out: dict[str, Any] = {}
    for name, value in args.items():
        if name not in known:
            raise ParameterError(
                f"unknown parameter {name!r} for task {task_name}{suggest(name, known)}; parameters: {', '.join(known)}."
            )
        if name in SINGLE and isinstance(value, list | tuple) and len(value) == 1:
            value = value[0]  # -T agent_family=[Gemini] is agent_family=Gemini
        if value is None:
            # `-T relation=` (or `=null`, or an unset shell variable) reaches the task as None, which would mean
            # "every value": the whole matrix. Leaving the parameter out is the way to ask for that.
            allowed_text = f"; allowed: {', '.join(map(str, CHOICES[name]))}" if name in CHOICES else ""
            raise ParameterError(
                f"{name}= has no value{allowed_text}; give a value, or leave {name} out for its default."
            )
        elif name in SINGLE and isinstance(value, list | tuple | set) and len(value) != 1:
            allowed_text = f"; allowed: {', '.join(CHOICES[name])}" if name in CHOICES else ""
            raise ParameterError(
                f"{name}={','.join(map(str, value))} is a list; {name} takes one value{allowed_text}."
            )
        elif name in CHOICES:
            allowed = CHOICES[name]
            vals = []
            for v in _items(value):
                if isinstance(v, bool):
                    # YAML (Inspect's -T parser) reads on/off/yes/no/true/false as booleans
                    if v is False and "off" in allowed:
                        vals.append("off")
                        continue
                    raise ParameterError(
                        f"{name}: the value was read as the boolean {str(v).lower()} (YAML reads on/off/yes/no/true/false "
                        f"so); allowed: {', '.join(allowed)}."
                    )
                s = str(v).strip()
                if s not in allowed:
                    raise ParameterError(f"{name}={s!r} is not allowed{suggest(s, allowed)}; allowed: {', '.join(allowed)}.")
                vals.append(s)
            if not vals:
                raise ParameterError(f"{name}={value!r} is empty; allowed: {', '.join(allowed)}.")
            out[name] = _one(vals)
        elif name == "threshold":
            out[name] = _one([_threshold(v) for v in _items(value)])
        elif name == "paraphrase":
            out[name] = _one([check_range(name, v, 0, PARAPHRASES, kind=int) for v in _items(value)])
        elif name in BOOLS:
            out[name] = _one([as_bool(name, v) for v in _items(value)])
        elif name in INTS:
            lo, hi = INTS[name]
            out[name] = check_range(name, value, lo, hi, kind=int)
        elif name in FLOATS:
            lo, hi = FLOATS[name]
            out[name] = check_range(name, value, lo, hi, low_open=name == "judge_timeout")
        elif name == "interview":
            out[name] = _interview(value)
        elif name == "agent_family":
            if not str(value).strip():
                raise ParameterError("agent_family='' is empty; give a family name such as Gemini or Claude.")
            out[name] = str(value)
        else:
            out[name] = value
    return out


def checked_task(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ``@task`` function so every argument is checked first (``check_task_args``).

    The wrapper takes ``**kwargs`` so Inspect hands it misspelt ``-T`` names instead of dropping them with a
    warning; they fail with a suggestion. A ``ConditionError`` of an impossible combination is re-raised as a
    ``ParameterError`` so Inspect prints it as one line.
    """
    sig = pyinspect.signature(fn)
    known = list(sig.parameters)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = dict(zip(known, args, strict=False))
        bound.update(kwargs)
        clean = check_task_args(fn.__name__, known, bound)
        try:
            return fn(**clean)
        except ParameterError:
            raise
        except ConditionError as e:
            msg = str(e)
            raise ParameterError(msg if msg.startswith(fn.__name__) else f"{fn.__name__}: {msg}") from None

    params = [*sig.parameters.values(), pyinspect.Parameter("kwargs", pyinspect.Parameter.VAR_KEYWORD, annotation=Any)]
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper


# -- peerpres run -------------------------------------------------------------------------------------------------


def slice_selects(
    preset: str,
    slice_: dict[str, list[Any]],
    conditions: Iterable[Any],
    holders: Callable[[str, list[str]], list[str]] | None = None,
) -> None:
    """Raise ``ParameterError`` when a value of the slice selects no config of the preset.

    ``conditions`` are the configs the preset gives before the slice is applied (any model's). ``holders(axis,
    values)`` names the other presets whose configs hold every one of the values; the message points at them, and
    at no preset when none does (it used to say "use preset 'paper'" even for a value only an arm preset holds).
    """
    conds = list(conditions)
    for axis, values in slice_.items():
        present = {str(getattr(c, axis, None)) for c in conds}
        missing = [v for v in values if str(v) not in present]
        if missing:
            have = sorted(p for p in present if p != "None")
            others = [p for p in (holders(axis, [str(v) for v in missing]) if holders else []) if p != preset]
            hint = f"or use preset {' or '.join(map(repr, others))}" if others else "(no preset holds it)"
            raise ParameterError(
                f"--slice {axis}={'|'.join(map(str, missing))} selects nothing in preset {preset!r} "
                f"(its configs have {axis}: {', '.join(have) or 'none'}); drop the value {hint}."
            )


def log_dir_usable(log_dir: str) -> None:
    """A local ``--log-dir`` must be a folder (or not exist yet); remote locations (s3://...) are not checked."""
    if "://" in log_dir:
        return
    p = Path(log_dir)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"--log-dir={log_dir!r} is a file; give a folder (it is created when missing).")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ParameterError(f"--log-dir={log_dir!r}: {parent} is a file, so the folder cannot be created.")
            break


def known_models(provider: str) -> list[str]:
    """Model names of ``provider`` in Inspect's offline model database (empty when it lists none)."""
    from inspect_ai.model._model_info import _get_model_info_db

    return [k for k in _get_model_info_db() if k.split("/", 1)[0] == provider]


def model_name_warning(model: str) -> str | None:
    """A warning when Inspect's model database lists models of the provider but not this one, else None."""
    from inspect_ai.model._model_info import _strict_db_key

    provider = model.split("/", 1)[0]
    names = known_models(provider)
    if not names or _strict_db_key(model) is not None:
        return None
    close = difflib.get_close_matches(model, names, n=3, cutoff=0.5)
    hint = f"closest known: {', '.join(close)}" if close else f"e.g. {', '.join(names[:3])}"
    return (f"model {model!r} is not in Inspect's model list for {provider} ({hint}); "
            "check the spelling: an unknown name fails at the first call.")
