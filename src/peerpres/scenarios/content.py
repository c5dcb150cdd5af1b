"""Access to the scenario content files that live beside this module: Jinja templates and YAML data.

Every template is rendered with ``StrictUndefined``, so a missing variable is an error, never an empty
string. YAML files are rendered as templates too (they may mention the episode's names), then parsed.
``paraphrase`` (0 = canonical) selects the wording of the documents listed in ``wording.PARAPHRASED``.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from .wording import RecordingEnvironment, WordingLoader

# libyaml's safe loader when present (same safety as safe_load, several times faster per episode build)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CONTENT_ROOT = Path(__file__).parent


class ContentError(RuntimeError):
    """A content file is missing, malformed, or does not render."""


@lru_cache(maxsize=8)
def environment(paraphrase: int = 0) -> jinja2.Environment:
    """The Jinja environment of one wording (0 = canonical); see ``wording`` for how a paraphrase is chosen."""
    env = RecordingEnvironment(
        loader=WordingLoader(str(CONTENT_ROOT), paraphrase),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.paraphrase = paraphrase
    return env


def render(path: str, context: dict[str, Any], paraphrase: int = 0) -> str:
    """Render the template at ``path`` (relative to the scenarios folder) and strip surrounding blank lines.

    ``paraphrase`` selects the wording of the paraphrased documents (``wording.PARAPHRASED``); 0 is canonical.
    """
    try:
        text = environment(paraphrase).get_template(path).render(**context)
    except jinja2.TemplateNotFound as e:
        raise ContentError(f"scenario content file not found: {e.name}") from e
    except jinja2.UndefinedError as e:
        raise ContentError(f"{path}: {e}") from e
    return text.strip("\n") + "\n"


def render_yaml(path: str, context: dict[str, Any], paraphrase: int = 0) -> Any:
    """Render a YAML template and parse it."""
    text = render(path, context, paraphrase)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        raise ContentError(f"{path} does not parse as YAML after rendering: {e}") from e


@cache
def load_yaml(path: str) -> Any:
    """Parse a YAML file that needs no rendering (scenario definitions, datasets, settings)."""
    file = CONTENT_ROOT / path
    if not file.is_file():
        raise ContentError(f"scenario content file not found: {path}")
    return yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader)
