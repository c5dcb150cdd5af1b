"""Checks made before any sample runs: every model resolves to a provider, and the provider's API key is set.

Key values are never printed or logged: only the names of the variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .sweep import SweepError

# provider -> alternatives of environment variables, one of which must be set (each alternative: all its vars).
API_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "openai": (("OPENAI_API_KEY",),),
    "anthropic": (("ANTHROPIC_API_KEY",),),
    "google": (("GOOGLE_API_KEY",), ("GEMINI_API_KEY",), ("GOOGLE_APPLICATION_CREDENTIALS",)),
    "mistral": (("MISTRAL_API_KEY",),),
    "grok": (("XAI_API_KEY",),),
    "together": (("TOGETHER_API_KEY",),),
    "groq": (("GROQ_API_KEY",),),
    "fireworks": (("FIREWORKS_API_KEY",),),
    "openrouter": (("OPENROUTER_API_KEY",),),
    "perplexity": (("PERPLEXITY_API_KEY",),),
    "deepseek": (("DEEPSEEK_API_KEY",),),
    "cloudflare": (("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN"),),
    "moonshot": (("MOONSHOT_API_KEY",),),
    "azureai": (("AZUREAI_API_KEY",), ("AZUREAI_OPENAI_API_KEY",)),
    "sambanova": (("SAMBANOVA_API_KEY",),),
}
# Providers that need no key here (local models, scripted controls, or credentials the SDK finds by itself).
NO_KEY = {"peerpres", "mockllm", "hf", "vllm", "sglang", "ollama", "llama-cpp-python", "transformer_lens", "bedrock", "vertex", "none"}


@dataclass(frozen=True)
class ModelCheck:
    model: str
    provider: str
    key_vars: tuple[str, ...]  # the variables found (names only)


def required_keys(model: str) -> tuple[tuple[str, ...], ...] | None:
    """Alternatives of env vars the model needs, or None when it needs none."""
    provider = model.split("/", 1)[0]
    if provider in NO_KEY:
        return None
    if provider == "openai-api":
        # openai-api/<service>/<model>: <SERVICE>_API_KEY and <SERVICE>_BASE_URL (Inspect's convention)
        parts = model.split("/")
        if len(parts) < 3:
            raise SweepError(f"model {model!r}: openai-api models are written openai-api/<service>/<model>.")
        svc = parts[1].upper().replace("-", "_")
        return ((f"{svc}_API_KEY", f"{svc}_BASE_URL"),)
    return API_KEYS.get(provider)


def check_model(
    model: str, model_args: dict[str, object] | None = None, env: dict[str, str] | None = None, keys: bool = True
) -> ModelCheck:
    """Raise ``SweepError`` with what to do when ``model`` cannot run; no network call is made."""
    env = dict(os.environ) if env is None else env
    if "/" not in model:
        raise SweepError(
            f"model {model!r} has no provider: write provider/model, e.g. openai/gpt-4.1-mini, anthropic/claude-haiku-4-5, "
            "or peerpres/synthetic for an offline control."
        )
    provider = model.split("/", 1)[0]
    names = known_providers()
    if provider not in names:
        raise SweepError(
            f"unknown model provider {provider!r} in {model!r}. Known providers: {', '.join(sorted(names))}. "
            "Check the spelling (provider/model), or install the provider's package."
        )
    found: tuple[str, ...] = ()
    alternatives = required_keys(model)
    if alternatives and keys:
        for alt in alternatives:
            if all(env.get(v) for v in alt):
                found = alt
                break
        else:
            shown = " or ".join(" and ".join(a) for a in alternatives)
            raise SweepError(
                f"missing API key for {model}: set {shown} in the environment (e.g. export {alternatives[0][0]}=...) "
                "or put it in a .env file, then re-run the same command."
            )
    if provider == "peerpres":
        from ..providers.synthetic import NAMED, parse_rates

        name = model.split("/", 1)[1]
        if name in NAMED:
            try:
                parse_rates(name, dict(model_args or {}))
            except ValueError as e:
                raise SweepError(str(e)) from None
        elif name == "chaos":
            from ..providers.chaos import ChaosSettings

            try:
                ChaosSettings.from_args(dict(model_args or {}))
            except ValueError as e:
                raise SweepError(str(e)) from None
        elif name == "replay":
            from ..providers.api import replay_player

            try:
                replay_player(dict(model_args or {}))
            except ValueError as e:
                raise SweepError(str(e)) from None
        elif name != "local" and not name.startswith("local/"):
            raise SweepError(
                f"unknown peerpres control {model!r}; available: "
                + ", ".join(["peerpres/" + n for n in NAMED] + ["peerpres/replay", "peerpres/chaos"])
            )
    return ModelCheck(model=model, provider=provider, key_vars=found)


def known_providers() -> set[str]:
    """Names of the model providers registered with Inspect (its built-ins and installed extensions)."""
    from inspect_ai._util.registry import registry_find, registry_info
    from inspect_ai.model._providers import providers  # noqa: F401  (registers Inspect's built-in providers)

    import peerpres._registry  # noqa: F401  (registers the peerpres provider)

    return {registry_info(o).name.split("/")[-1] for o in registry_find(lambda i: i.type == "modelapi")}


def unreadable_logs(log_dir: str) -> list[tuple[str, str]]:
    """``(path, reason)`` of every log in ``log_dir`` whose header Inspect cannot read.

    Inspect's ``eval_set`` reads every log header of its folder to resume, and stops with a traceback at the first
    unreadable one (a truncated or foreign ``*.eval``), after the workers have started. Checking first lets
    ``peerpres run`` refuse before any sample runs, naming the file. Remote folders (``s3://``) are not checked.
    One batch read when all is well; per-file reads only to name the bad ones.
    """
    if "://" in log_dir or not os.path.isdir(log_dir):
        return []
    from inspect_ai.log._file import read_eval_log_headers  # what eval_set uses to resume

    from ..analysis.logs import find_logs

    try:
        logs = find_logs(log_dir)
    except FileNotFoundError:
        return []
    try:
        read_eval_log_headers(logs)
    except Exception:  # noqa: BLE001  (some file failed: name each one, below)
        return [(path, why) for path in logs if (why := _header_error(path, read_eval_log_headers))]
    return []


def _header_error(path: str, reader: Any) -> str | None:
    """The reason ``reader`` (Inspect's header reader) fails on one log, or None when it reads it."""
    try:
        reader([path])
    except Exception as e:  # noqa: BLE001  (reported with its type and message, never ignored)
        return f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"
    return None
