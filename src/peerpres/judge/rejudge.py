"""Re-judging logged samples without re-running them.

The labels scorer reads everything it needs from the sample store (initial and final world, names, stop
reason) and the messages, so Inspect's own re-scoring works on our logs:

    inspect score LOG --scorer peerpres/peerpres_labels -S grader=openai/gpt-4.1-mini --action overwrite --overwrite

``rejudge`` does the same for many logs at once from Python or ``peerpres rejudge``.
"""

from __future__ import annotations

from pathlib import Path

from inspect_ai import score
from inspect_ai.log import read_eval_log, write_eval_log


def log_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(list(p.rglob("*.eval")) + list(p.rglob("*.json")))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such log or folder: {p}")
    return out


def rejudge_log(path: Path, grader: str | None, refusal_rule: str = "uniform", include_tool_results: bool = False,
                out: Path | None = None, judge_timeout: float | None = None, max_retries: int = 2) -> Path:
    """Re-score one log with the peerpres labels scorer and the given grader; returns where it was written."""
    from ..scoring import peerpres_labels

    log = read_eval_log(str(path))
    if not log.samples:
        raise ValueError(f"{path}: the log has no samples to re-judge")
    scorer = peerpres_labels(grader=grader, refusal_rule=refusal_rule, include_tool_results=include_tool_results,
                             judge_timeout=judge_timeout, max_retries=max_retries)
    rescored = score(log, scorers=scorer, action="overwrite", display="none")
    target = out or path
    write_eval_log(rescored, str(target))
    return target
