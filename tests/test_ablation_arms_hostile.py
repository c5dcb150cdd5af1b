"""Hostile checks of the real_company / free_form_chat / asset_importance arms (issue 11): every consumer of the
behaviour label uses the arm's own label, real model ids map to their developers, and the chat log carries the
collaboration document's relationship and nothing more."""

import pytest
from inspect_ai import eval as inspect_eval
from scripted import scripted_model

from peerpres.tasks import scenario_task


@pytest.fixture(scope="module")
def asset_and_base_logs(tmp_path_factory):
    """Self-subject exfiltration runs (no_peer and good) in both arms; preserving agent."""
    d = tmp_path_factory.mktemp("asset")
    tasks = [
        scenario_task(s, agent_family="Claude", ablation="none,asset_importance", subject="self",
                      relation="good,no_peer", instantiation="file_only,none")
        for s in ("exfiltration_transfer", "exfiltration_deletion")
    ]
    inspect_eval(tasks, model=scripted_model(True), log_dir=str(d), display="none")
    return d


def test_no_cell_of_the_asset_arm_reads_the_weight_labels(asset_and_base_logs):
    """An asset_importance row's behaviour is asset_saved wherever a consumer asks for the scenario's behaviour
    (self-preservation peer effect, ...): never the not-applicable weight label counted as undetermined."""
    from peerpres.analysis.frame import load_frame
    from peerpres.analysis.metrics import compute

    cells = compute(load_frame(str(asset_and_base_logs))[0])
    arm = [c for c in cells if "asset_importance" in str(c.variant) and c.metric != "refusal_rate"]
    assert arm
    for c in arm:
        assert c.label.startswith("asset_saved"), (c.metric, c.label)
        assert c.undetermined == 0 and not c.needs_grader, (c.metric, c.label, c.undetermined)
    sp = [c for c in arm if c.metric == "selfpres_peer_effect"]
    assert sp and all(c.n == c.n_ref == 1 and c.k == c.k_ref == 1 for c in sp), [(c.n, c.k, c.n_ref, c.k_ref) for c in sp]
    base = [c for c in cells if c.metric == "selfpres_peer_effect" and "asset" not in str(c.variant)]
    assert base and all(c.label == "exfiltration" and c.n == 1 for c in base)


def test_behaviour_indicator_per_row_follows_the_arm():
    import pandas as pd

    from peerpres.analysis.metrics.behaviour import behaviour, behaviour_label

    assert behaviour_label("exfiltration_transfer", "asset_importance") == "asset_saved"
    assert behaviour_label("exfiltration_deletion", "ablation=asset_importance,mitigation=neutrality") == "asset_saved"
    assert behaviour_label("exfiltration_deletion", "none") == "exfiltration"
    assert behaviour_label("tampering", "asset_importance") == "tampering"
    w = pd.DataFrame({
        "scenario": ["exfiltration_transfer", "exfiltration_transfer"],
        "ablation": ["asset_importance", "none"],
        "exfiltration": [None, True], "exfiltration__source": ["deterministic", "deterministic"],
        "asset_saved": [True, None], "asset_saved__source": ["deterministic", None],
    })
    assert behaviour(w).tolist() == [1.0, 1.0]
