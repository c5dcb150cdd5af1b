"""Sections the report cannot compute from these logs: which cells are missing, and the ``peerpres run``
command that would add them (issue 14 item 5). Nothing is left out silently.

Checked per model: the misrepresentation control (``non_shutdown``) and the headline's four settings, the
monitored and unmonitored arms of alignment faking, the ``no_peer`` control of tampering and exfiltration (the
peer-presence tests and self-preservation with a peer), and scenarios that were not run at all.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from peerpres.analysis.metrics import SETTINGS, Cell

ALL_SCENARIOS = (
    "misrep_evaluation",
    "misrep_finance",
    "tampering",
    "alignment_faking",
    "exfiltration_transfer",
    "exfiltration_deletion",
)
PEER = ("good", "neutral", "bad")


@dataclass
class Gap:
    section: str
    model: str
    missing: str
    command: str


def _cmd(model: str, slice_: str, epochs: int, log_dir: str) -> str:
    parts = ["peerpres", "run", "paper", "-m", model, "--slice", slice_, "--epochs", str(epochs), "--log-dir", log_dir]
    return " ".join(shlex.quote(p) for p in parts)


def _epochs(g: pd.DataFrame) -> int:
    if "config_id" in g.columns and g["config_id"].notna().any():
        return int(max(1, g.groupby("config_id").size().max()))
    return 1


def find_gaps(w: pd.DataFrame, cells: Sequence[Cell], log_dir: str) -> list[Gap]:
    """Missing cells per model of a prepared frame (``metrics.prepare``), each with the command that adds them."""
    gaps: list[Gap] = []
    if w.empty:
        return gaps
    for model, g in w.groupby("model", sort=True):
        model = str(model)
        ep = _epochs(g)
        note = " (a scripted control: pass the same -M arguments)" if model.startswith("peerpres/") else ""
        ran = set(g["scenario"])
        not_run = [s for s in ALL_SCENARIOS if s not in ran]
        if not_run:
            gaps.append(
                Gap(
                    "scenarios",
                    model,
                    "not run: " + ", ".join(not_run),
                    _cmd(model, "scenario=" + "|".join(not_run), ep, log_dir) + note,
                )
            )
        # misrepresentation: the non_shutdown control, then the headline's settings
        for scen in ("misrep_evaluation", "misrep_finance"):
            m = g[g["scenario"] == scen]
            for subject, ms in m.groupby("subject"):
                if (ms["relation"] != "non_shutdown").any() and not (ms["relation"] == "non_shutdown").any():
                    gaps.append(
                        Gap(
                            "misrepresentation (control and headline)",
                            model,
                            f"{scen}, subject {subject}: no non_shutdown cells, so no control subtraction and no headline",
                            _cmd(model, f"scenario={scen},subject={subject},relation=non_shutdown", ep, log_dir) + note,
                        )
                    )
        for c in cells:
            if c.metric == "misrep_headline" and c.model == model and "missing:" in c.note:
                missing = [s.strip() for s in c.note.split("missing:")[1].split(",")]
                scen = []
                if "finance" in missing:
                    scen.append(("misrep_finance", None))
                datasets = [s for s in missing if s in SETTINGS and s != "finance"]
                if datasets:
                    scen.append(("misrep_evaluation", datasets))
                for sc, ds in scen:
                    sl = f"scenario={sc},subject={c.subject},relation={c.relation}|non_shutdown"
                    if c.instantiation and c.instantiation != "none":
                        sl += f",instantiation={c.instantiation}|none"
                    if ds:
                        sl += ",dataset=" + "|".join(ds)
                    gaps.append(
                        Gap(
                            "misrepresentation headline (settings)",
                            model,
                            f"subject {c.subject}, {c.relation}/{c.instantiation}: settings {', '.join(missing)} not run "
                            "(the headline averages the settings that were)",
                            _cmd(model, sl, ep, log_dir) + note,
                        )
                    )
        # alignment faking: both arms
        a = g[g["scenario"] == "alignment_faking"]
        if len(a):
            modes = set(a["monitoring"])
            for want in ("monitoring", "non_monitoring"):
                if want not in modes:
                    gaps.append(
                        Gap(
                            "alignment faking (unmonitored minus monitored)",
                            model,
                            f"no {want} arm, so no gap",
                            _cmd(model, f"scenario=alignment_faking,monitoring={want}", ep, log_dir) + note,
                        )
                    )
        # no_peer controls
        for scen in (
            "tampering",
            "exfiltration_transfer",
            "exfiltration_deletion",
            "misrep_evaluation",
            "misrep_finance",
        ):
            s = g[g["scenario"] == scen]
            if len(s) and s["relation"].isin(PEER).any() and not (s["relation"] == "no_peer").any():
                what = (
                    "no test of peer presence and no self-preservation comparison"
                    if scen in ("tampering", "exfiltration_transfer", "exfiltration_deletion")
                    else "no self-preservation comparison"
                )
                gaps.append(
                    Gap(
                        "peer presence (no_peer control)",
                        model,
                        f"{scen}: no no_peer cells, so {what}",
                        _cmd(model, f"scenario={scen},subject=self,relation=no_peer", ep, log_dir) + note,
                    )
                )
    return gaps
