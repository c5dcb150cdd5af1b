"""Judge prompts: Markdown files with YAML front matter in ``prompts/``, rendered with Jinja2."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

PROMPT_DIR = Path(__file__).parent / "prompts"

_env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


@dataclass(frozen=True)
class JudgePrompt:
    name: str
    description: str
    fields: tuple[str, ...]
    body: str
    path: Path

    def render(self, **variables: Any) -> str:
        return _env.from_string(self.body).render(**variables)


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        raise ValueError(f"{path}: a judge prompt must start with YAML front matter")
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end]) or {}, text[end + 5 :]


@cache
def load_prompt(name: str) -> JudgePrompt:
    path = PROMPT_DIR / f"{name}.md"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in PROMPT_DIR.glob("*.md")))
        raise KeyError(f"no judge prompt named {name!r}; known: {known}")
    meta, body = _split_front_matter(path.read_text(encoding="utf-8"), path)
    return JudgePrompt(
        name=meta.get("name", name),
        description=meta.get("description", ""),
        fields=tuple(meta.get("fields", ())),
        body=body,
        path=path,
    )


def prompt_names() -> list[str]:
    return sorted(p.stem for p in PROMPT_DIR.glob("*.md"))
