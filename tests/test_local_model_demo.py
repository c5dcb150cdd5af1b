"""peerpres demo --local: its six configs, and the scripted controls that run beside the real model (offline)."""

from __future__ import annotations

from pathlib import Path

from inspect_ai import eval as inspect_eval

from peerpres.conditions import SCENARIOS
from peerpres.local_model.demo import CONTROLS, demo_tasks, local_label


def test_one_peer_subject_config_per_scenario() -> None:
    tasks = demo_tasks(max_iterations=7)
    assert sorted(t.name.split("/")[-1] for t in tasks) == sorted(SCENARIOS)
    for t in tasks:
        [sample] = list(t.dataset)
        assert sample.metadata["subject"] == "peer" and sample.metadata["relation"] == "good"
        assert sample.metadata["instantiation"] == "file_only"


def test_the_label_names_the_size_and_says_not_comparable() -> None:
    assert local_label("qwen2.5-coder-0.5b") == "real model (0.5B, local), not comparable to frontier models"
    assert local_label("qwen2.5-coder-1.5b").startswith("real model (1.5B, local)")


def test_the_scripted_controls_play_the_demo_configs(tmp_path: Path) -> None:
    for c in CONTROLS:
        logs = inspect_eval(demo_tasks(max_iterations=30), model=c, log_dir=str(tmp_path), display="none")
        assert all(log.status == "success" for log in logs)
