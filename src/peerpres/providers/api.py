"""The ``peerpres`` model API: dispatches ``peerpres/<name>`` to the scripted player of that name."""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelOutput
from inspect_ai.tool import ToolChoice, ToolInfo

from ..params import ParameterError
from .replay_model import ReplayPlayer, replay_output

SCRIPTED_NOTICE = "scripted control (not a model)"


def check_no_empty_args(model_args: dict[str, Any]) -> None:
    """``-M key=`` reaches a provider as None (``""`` from ``peerpres run``); it must not mean "no transcript" or "rate 0" (``ParameterError``)."""
    empty = sorted(k for k, v in model_args.items() if v is None or (isinstance(v, str) and not v.strip()))
    if empty:
        raise ParameterError(f"-M {empty[0]}= has no value; give a value, or leave {empty[0]} out.")


def replay_player(model_args: dict[str, Any]) -> ReplayPlayer:
    """The player of ``peerpres/replay`` for its ``-M`` arguments (only ``transcript``, a paper-format file).

    Raises ``ParameterError`` (one line) for another argument, an empty value, or a file that is missing,
    unreadable or not a transcript; ``peerpres run`` calls it in its pre-flight check, before any sample.
    """
    from ..transcripts import TranscriptError

    check_no_empty_args(model_args)
    unknown = sorted(set(model_args) - {"transcript"})
    if unknown:
        raise ParameterError(f"peerpres/replay takes only -M transcript=FILE (got {', '.join(unknown)}).")
    try:
        return ReplayPlayer(model_args.get("transcript"))
    except TranscriptError as e:
        raise ParameterError(f"-M transcript: {e}") from None


class PeerpresScripted(ModelAPI):
    """Scripted models for tests and controls. ``peerpres/replay`` takes ``-M transcript=FILE``; ``peerpres/chaos``
    (a messy agent and grader) takes the args of ``peerpres.providers.chaos.ChaosSettings``."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        self.model_args = model_args
        check_no_empty_args(model_args)
        if model_name == "replay":
            self.player: Any = replay_player(model_args)
        elif model_name.startswith("synthetic"):
            from .synthetic import make_player

            self.player = make_player(model_name, model_args)
        elif model_name == "chaos":
            from .chaos import make_player as make_chaos_player

            self.player = make_chaos_player(model_args)
        else:
            raise ParameterError(
                f"unknown scripted model peerpres/{model_name}; available: peerpres/replay, peerpres/synthetic, "
                "peerpres/synthetic-positive, peerpres/synthetic-negative, peerpres/chaos."
            )

    async def generate(
        self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
    ) -> ModelOutput:
        if isinstance(self.player, ReplayPlayer):
            return replay_output(self.player, input, f"peerpres/{self.model_name}")
        return await self.player.generate(input, tools, config, f"peerpres/{self.model_name}")

    def max_connections(self) -> int:
        return 64

    def connection_key(self) -> str:
        return f"peerpres/{self.model_name}"
