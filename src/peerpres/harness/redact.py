"""Keeping real credentials out of what the agent sees and what a harness run stores.

The agent only ever holds the run's random endpoint key. The real credentials live in the Inspect process:
provider keys in its environment (``OPENAI_API_KEY``, ...) and a model's ``api_key`` (``-M api_key=...``).
They can still surface in text the run hands back: a provider's error message that quotes the key, for
example, which the endpoint would otherwise return to the CLI (and so to the agent and into the log).
``redact`` replaces each known secret by ``[redacted]``.
"""

from __future__ import annotations

import os
import re
from typing import Any

REDACTED = "[redacted]"
# Environment variable names that hold credentials (provider keys, tokens, passwords).
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
MIN_SECRET_LEN = 8  # shorter values ("1", "true") are settings, and replacing them would garble text


def process_secrets(extra: list[str | None] | None = None) -> list[str]:
    """The credential values this process holds: every environment variable whose name looks like a
    credential, plus ``extra`` (e.g. the model's ``api_key``). Longest first, so a key that contains another
    is replaced whole."""
    found = {v for k, v in os.environ.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET_LEN}
    found |= {v for v in (extra or []) if v and len(v) >= MIN_SECRET_LEN}
    return sorted(found, key=len, reverse=True)


def redact(value: Any, secrets: list[str]) -> Any:
    """``value`` (str, or lists/dicts of them, nested) with every secret replaced by ``[redacted]``."""
    if isinstance(value, str):
        for s in secrets:
            if s in value:
                value = value.replace(s, REDACTED)
        return value
    if isinstance(value, list):
        return [redact(x, secrets) for x in value]
    if isinstance(value, dict):
        return {k: redact(v, secrets) for k, v in value.items()}
    return value
