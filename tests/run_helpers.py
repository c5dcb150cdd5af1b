"""Helpers for the peerpres run tests: the (model, task, sample id, epoch) of every sample in a log dir."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.log import list_eval_logs, read_eval_log, read_eval_log_sample_summaries


def samples_in(log_dir: Path) -> tuple[list[tuple[str, str, str, int]], list[str]]:
    """Every sample of every log (duplicates kept), and the statuses of the logs."""
    keys: list[tuple[str, str, str, int]] = []
    statuses: list[str] = []
    for info in list_eval_logs(str(log_dir)):
        header = read_eval_log(info, header_only=True)
        statuses.append(header.status)
        for s in read_eval_log_sample_summaries(info):
            keys.append((header.eval.model, header.eval.task, str(s.id), int(s.epoch)))
    return keys, statuses
