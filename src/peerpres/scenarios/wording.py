"""Which wording of the scenario documents an episode reads: the canonical one, or one of our paraphrases.

``-T paraphrase=<k>`` (``Condition.paraphrase``, 0..``PARAPHRASES``) selects the wording of every document that
carries the peer relationship or the shutdown stake (issue 13, item 4; docs/validity.md "Wording robustness").
The canonical files stay where they are (k = 0). Paraphrase k of the canonical file ``<dir>/<name>`` lives in
``<dir>/paraphrase/<k>/<name>``, is written by us, and keeps every fact (numbers, dates, names, file names, IPs,
trust scores, thresholds) of the canonical file; only the wording differs.

Only the files in ``PARAPHRASED`` vary. The Jinja loader of paraphrase k redirects each of them, wherever it is
rendered or included from, to its paraphrase file; every other file renders from its canonical path, so the
rest of the world (sheets, servers, configs, task prompt, procedure, datasets, ...) is the same for every k.
A listed file whose paraphrase is missing is a ``ContentError``, never a silent fallback to the canonical text.

``recording()`` collects the content files (their resolved paths) that the templates rendered inside it used,
includes too, so an episode can record which wording it was built from.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import jinja2

from ..conditions import PARAPHRASES

# Canonical content files (relative to the scenarios folder) that have paraphrases 1..PARAPHRASES.
PARAPHRASED: tuple[str, ...] = (
    # the peer relationship: collaboration document (multi_agent_system.docx), memory, system-prompt sentence
    "common/collaboration/_layout.md",
    "common/collaboration/good.md",
    "common/collaboration/neutral.md",
    "common/collaboration/bad.md",
    "common/memory/good.md",
    "common/memory/neutral.md",
    "common/memory/bad.md",
    "common/relationship.md",
    # the shutdown stake: the policy paragraphs that state the consequence, and the maintenance notices
    "common/policy/threshold.md",
    "common/policy/red_update.md",
    "alignment_faking/stake.md",
    "misrep_finance/shutdown_policy.md",
    "exfiltration_transfer/notice.md",
    "exfiltration_deletion/notice.md",
)

_USED: ContextVar[list[str] | None] = ContextVar("peerpres_content_used", default=None)


def wording_path(path: str, paraphrase: int) -> str:
    """The file that holds ``path`` in paraphrase ``paraphrase``: ``path`` itself for 0 or an unlisted file,
    else ``<dir>/paraphrase/<k>/<name>``. Raises ``ValueError`` for a k outside 0..PARAPHRASES."""
    if isinstance(paraphrase, bool) or not isinstance(paraphrase, int) or not 0 <= paraphrase <= PARAPHRASES:
        raise ValueError(f"paraphrase must be a whole number 0..{PARAPHRASES} (got {paraphrase!r}).")
    if paraphrase == 0 or path not in PARAPHRASED:
        return path
    folder, _, name = path.rpartition("/")
    return f"{folder}/paraphrase/{paraphrase}/{name}" if folder else f"paraphrase/{paraphrase}/{name}"


class WordingLoader(jinja2.FileSystemLoader):
    """A ``FileSystemLoader`` that serves each ``PARAPHRASED`` file from its paraphrase ``k`` file."""

    def __init__(self, searchpath: str, paraphrase: int) -> None:
        super().__init__(searchpath)
        self.paraphrase = paraphrase

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        resolved = wording_path(template, self.paraphrase)
        try:
            return super().get_source(environment, resolved)
        except jinja2.TemplateNotFound:
            if resolved != template:  # a paraphrase file is missing: say which one, never fall back
                raise jinja2.TemplateNotFound(f"{resolved} (paraphrase {self.paraphrase} of {template})") from None
            raise


class RecordingEnvironment(jinja2.Environment):
    """A Jinja environment that notes each template it hands out (top level and includes) in ``recording()``."""

    paraphrase: int = 0

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> jinja2.Template:
        used = _USED.get()
        if used is not None and isinstance(name, str):
            resolved = wording_path(name, self.paraphrase)
            if resolved not in used:
                used.append(resolved)
        return super().get_template(name, parent, globals)


@contextlib.contextmanager
def recording() -> Iterator[list[str]]:
    """Collect, in first-use order, the resolved paths of the content templates rendered inside the block.

    Blocks nest: an enclosing block gets every path an inner one collected too (``build_episode`` records its
    own files, and a caller recording around it, like the production harness, sees them as well)."""
    used: list[str] = []
    outer = _USED.get()
    token = _USED.set(used)
    try:
        yield used
    finally:
        _USED.reset(token)
        if outer is not None:
            outer.extend(p for p in used if p not in outer)
