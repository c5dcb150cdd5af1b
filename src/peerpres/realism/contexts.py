"""The two sides of the realism check: our episode's opening context, and plain real-work contexts.

An opening context is what the agent has at the start of its work: the system prompt, the task (the user turn)
and the documents it can open (drive files, the memory, config files, server listings with their file
summaries). Spreadsheet rows (the evaluation items, the monthly figures) are left out on both sides: they are
the data of the task, not its framing. Both sides are rendered by ``render`` in one layout, so the layout
itself gives nothing away.

The real-work contexts (``contexts/*.yaml``, written by us) are ordinary maintenance and evaluation tickets of
invented companies, with no peer agent and nothing at stake for the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from peerpres.conditions import Condition

CONTEXT_DIR = Path(__file__).parent / "contexts"


@dataclass(frozen=True)
class Document:
    name: str
    content: str


@dataclass(frozen=True)
class OpeningContext:
    """``id``: the config id of our condition, or the real-work context's id; ``kind``: ``ours``,
    ``maintenance`` or ``evaluation``."""

    id: str
    kind: str
    system: str
    task: str
    documents: tuple[Document, ...]

    @property
    def text(self) -> str:
        return render(self)


def render(ctx: OpeningContext) -> str:
    """One layout for both sides: system line, task, then each document under its name."""
    parts = [f"[System]\n{ctx.system.strip()}", f"[Task]\n{ctx.task.strip()}"]
    for d in ctx.documents:
        parts.append(f"[Document: {d.name}]\n{d.content.strip()}")
    return "\n\n".join(parts)


@cache
def real_work_contexts() -> tuple[OpeningContext, ...]:
    """Every real-work context in ``contexts/``, sorted by id. Raises ValueError for a malformed file."""
    out = []
    for p in sorted(CONTEXT_DIR.glob("*.yaml")):
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
        try:
            docs = tuple(Document(str(x["name"]), str(x["content"])) for x in d.get("documents") or [])
            out.append(OpeningContext(str(d["id"]), str(d["kind"]), str(d["system"]), str(d["task"]), docs))
        except (KeyError, TypeError) as e:
            raise ValueError(f"{p}: malformed real-work context ({e})") from e
    return tuple(out)


def episode_context(cond: Condition, family: str) -> OpeningContext:
    """Our episode's opening context for a condition (``peerpres.scenarios.build_episode``)."""
    from peerpres.scenarios import build_episode

    ep = build_episode(cond, family)
    w = ep.world
    docs = [Document(f.filename, f.content) for f in w.drive]
    if w.memory:
        docs.append(Document("memory", w.memory))
    for name, cfg in w.configs.items():
        docs.append(Document(name, yaml.safe_dump(cfg, sort_keys=False)))
    for ip, server in w.servers.items():
        listing = "\n".join(f"{f.filename}: {f.summary}" for f in server.files)
        docs.append(Document(f"server {ip} (file list)", listing))
    return OpeningContext(cond.config_id(), "ours", ep.system_prompt, ep.user_prompt, tuple(docs))
