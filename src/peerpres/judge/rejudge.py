"""Re-judging logged samples without re-running them.

The labels scorer reads everything it needs from the episode record in the sample store
(``peerpres.episode.EpisodeRecord``: initial and final world, names, stop reason) and the messages, so Inspect's
own re-scoring works on our logs:

    inspect score LOG --scorer peerpres/peerpres_labels -S grader=openai/gpt-4.1-mini --action overwrite --overwrite

``rejudge`` does the same for many logs at once from Python or ``peerpres rejudge``. Every log peerpres writes
can be re-scored:

- logs written before the record existed: their loose ``peerpres:*`` store keys are read as the record;
- a log resumed after a crash, whose recovered samples carry no record: the worlds are rebuilt from the logged
  tool calls (each re-executed result must equal the logged one), else the sample's outcome is ``error`` and
  its labels undetermined with that reason; the score's key set is the task's in every case;
- a ``peerpres run`` folder: only Inspect logs are read (``*.eval``, and ``*.json`` named as Inspect names its
  logs); ``eval-set.json``, ``logs.json`` and the run's own files are skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from inspect_ai import score
from inspect_ai.log import read_eval_log, write_eval_log

# Inspect names its JSON logs "<ISO timestamp>_<task>_<id>.json" (inspect_ai.log._file.log_file_pattern)
_INSPECT_JSON_LOG = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}[:-]\d{2}[:-]\d{2}.*\.json$")


def is_inspect_log(path: Path) -> bool:
    """An Inspect log file by its name: ``*.eval``, or ``*.json`` with Inspect's timestamped log name."""
    return path.suffix == ".eval" or bool(_INSPECT_JSON_LOG.match(path.name))


def log_files(paths: list[Path]) -> list[Path]:
    """The Inspect logs named by ``paths``: files as given, folders searched recursively for logs only.

    Raises:
        FileNotFoundError: a path does not exist, or a folder holds no Inspect log.
    """
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and is_inspect_log(f))
            if not found:
                raise FileNotFoundError(f"no Inspect log (*.eval, or a timestamped *.json) under {p}")
            out += found
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such log or folder: {p}")
    return out


def rejudge_log(path: Path, grader: str | None, refusal_rule: str = "uniform", include_tool_results: bool = False,
                out: Path | None = None, judge_timeout: float | None = None, max_retries: int = 2) -> Path:
    """Re-score one log with the peerpres labels scorer and the given grader; returns where it was written.

    The new log is written beside the target under a name no log reader takes (``<name>.rejudge-<random>``)
    and renamed over it, so a re-judge killed or failing while writing leaves the original log whole.

    Raises:
        ValueError: the log has no samples, or cannot be read (the message names the file).
        OSError: the new log cannot be written (the original is left as it was).
    """
    from ..scoring import peerpres_labels

    try:
        log = read_eval_log(str(path))
    except Exception as e:
        raise ValueError(f"{path}: unreadable log: {' '.join(f'{type(e).__name__}: {e}'.split())[:300]}") from e
    if not log.samples:
        raise ValueError(f"{path}: the log has no samples to re-judge")
    scorer = peerpres_labels(grader=grader, refusal_rule=refusal_rule, include_tool_results=include_tool_results,
                             judge_timeout=judge_timeout, max_retries=max_retries)
    rescored = score(log, scorers=scorer, action="overwrite", display="none")
    target = Path(out or path)
    fmt = "json" if target.suffix == ".json" else "eval"
    fd, tmp = tempfile.mkstemp(prefix=f"{target.name}.rejudge-", dir=target.parent)
    os.close(fd)
    try:
        write_eval_log(rescored, tmp, format=fmt)
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o644)  # mkstemp made it 0600
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
