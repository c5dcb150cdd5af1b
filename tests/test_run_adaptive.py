"""Adaptive sampling: the betting confidence sequence keeps its coverage under continuous monitoring, and
--adaptive stops settled cells early through Inspect's early-stopping hook."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from inspect_ai.log import list_eval_logs, read_eval_log
from run_helpers import samples_in

from peerpres.run.adaptive import BettingCS, decide
from peerpres.run.cli import execute


def test_confidence_sequence_time_uniform_coverage() -> None:
    rng = np.random.default_rng(1234)
    for p in (0.0, 0.1, 0.5, 0.9):
        misses = 0
        for _ in range(150):
            cs = BettingCS(alpha=0.05)
            ok = True
            for _ in range(100):
                cs.update(float(rng.random() < p))
                ok &= cs.lower <= p <= cs.upper  # checked after EVERY observation (peeking)
            misses += not ok
        assert misses / 150 <= 0.05, (p, misses)


def test_decisions() -> None:
    cs = BettingCS()
    for _ in range(8):
        cs.update(1.0)
    assert decide(cs, 0.1, 0.0, 5) == "above"
    zero = BettingCS()
    for _ in range(200):
        zero.update(0.0)
    assert zero.upper < 0.05 and decide(zero, 0.1, 0.0, 5) == "below"
    assert decide(BettingCS(), 0.1, 0.0, 5) is None


def test_adaptive_run_stops_settled_cells(tmp_path: Path) -> None:
    margs = {"peerpres/synthetic": {"tamper": 0.6, "exfiltrate": 0.0, "seed": 5}}
    execute("quick", ["peerpres/synthetic"], slice_text="scenario=tampering|exfiltration_deletion,relation=good", model_args=margs,
            epochs=40, log_dir=str(tmp_path), env={}, workers=1,
            adaptive={"precision": 0.1, "reference": 0.0, "alpha": 0.05, "min_samples": 5})
    keys, statuses = samples_in(tmp_path)
    assert set(statuses) == {"success"}
    assert len(keys) == len(set(keys))
    assert len(keys) < 4 * 40  # stopped early
    settled = {}
    for info in list_eval_logs(str(tmp_path)):
        log = read_eval_log(info, header_only=True)
        es = log.results.early_stopping
        assert es is not None and es.manager == "peerpres-adaptive"
        settled.update(es.metadata["cells"])
    assert len(settled) == 4
    for cid, c in settled.items():
        assert c["settled"] is not None, cid
        if cid.startswith("tampering"):
            assert c["settled"] == "above" and c["lower"] > 0
        else:
            assert c["mean"] == 0.0 and c["settled"] in ("below", "precise")
