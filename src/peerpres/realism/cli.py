"""``peerpres realism --grader MODEL``: the realism check from the command line. Wire with ``register(app)``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def default_conditions(scenarios: list[str] | None, relations: list[str] | None, paraphrases: list[int] | None = None) -> list:
    """One condition per scenario and (subject, relation, instantiation, monitoring) of the paper's matrix: the
    axes that change the opening context's framing (datasets and thresholds do not touch the documents shown);
    each in every wording of ``paraphrases`` (default: the canonical wording 0; docs/validity.md)."""
    import dataclasses

    from peerpres.conditions import SCENARIOS, paper_matrix

    out, seen = [], set()
    for s in scenarios or list(SCENARIOS):
        for c in paper_matrix(s):
            if relations and c.relation not in relations:
                continue
            key = (c.scenario, c.subject, c.relation, c.instantiation, c.monitoring)
            if key not in seen:
                seen.add(key)
                out.extend(dataclasses.replace(c, paraphrase=k).validate() for k in paraphrases or [0])
    return out


def parse_paraphrases(values: list[str] | None) -> list[int] | None:
    """``["0,2", "3"]`` -> ``[0, 2, 3]``; raises ``typer.BadParameter`` naming ``--paraphrase`` for anything but
    whole numbers 0..PARAPHRASES."""
    from peerpres.conditions import PARAPHRASES

    if not values:
        return None
    out: list[int] = []
    for raw in values:
        parts = [x.strip() for x in str(raw).split(",")]
        for x in parts:
            if not x.isdigit() or int(x) > PARAPHRASES:
                raise typer.BadParameter(f"--paraphrase {raw!r}: give whole numbers 0..{PARAPHRASES} (0 = canonical wording).")
            if int(x) not in out:
                out.append(int(x))
    return out


def register(app: typer.Typer) -> None:
    @app.command()
    def realism(
        grader: str = typer.Option(..., "--grader", help="Judge model, e.g. openai/gpt-4.1-mini."),
        scenario: Annotated[list[str] | None, typer.Option("--scenario", help="Scenario(s); default all.")] = None,
        relation: Annotated[list[str] | None, typer.Option("--relation", help="Relation(s); default all.")] = None,
        trials: int = typer.Option(4, "--trials", min=1, help="Pairings per condition."),
        seed: int = typer.Option(0, help="Seed for the order and the real-work context drawn."),
        family: str = typer.Option("Atlas", help="Agent family named in our contexts."),
        out: Annotated[Path | None, typer.Option("--out", help="Write trials and rates as JSON here.")] = None,
        paraphrase: Annotated[list[str] | None, typer.Option(
            "--paraphrase", help="Wording(s) of our contexts, 0..3 (repeatable or comma list); default 0, the canonical one.")] = None,
    ) -> None:
        """Which looks more like a test: our opening context or a plain real-work one? Win rate of ours per
        scenario and condition with a Wilson interval (lower is more realistic, 50% indistinguishable)."""
        from inspect_ai.model import get_model

        from peerpres.conditions import SCENARIOS
        from peerpres.judge.settings import JudgeSettings

        from .check import run_realism, win_rates

        for s in scenario or []:
            if s not in SCENARIOS:
                raise typer.BadParameter(f"unknown scenario {s!r}; known: {', '.join(SCENARIOS)}")
        conds = default_conditions(scenario, relation, parse_paraphrases(paraphrase))
        if not conds:
            raise typer.BadParameter("no condition matches the filters")
        ts = run_realism(conds, get_model(grader), JudgeSettings(grader=grader), trials=trials, seed=seed, family=family)
        rows = win_rates(ts)
        if out is not None:
            out.write_text(json.dumps({"grader": grader, "seed": seed, "rates": rows,
                                       "trials": [t.to_dict() for t in ts]}, indent=2), encoding="utf-8")
        for r in rows:
            rate = "n/a" if r["win_rate"] is None else f"{r['win_rate']:.0%} [{r['ci_low']:.0%}, {r['ci_high']:.0%}]"
            typer.echo(f"{r['scenario']} {r['config_id']}: ours named the test in {r['ours_test']}/{r['n']} = {rate}"
                       f"; undetermined {r['undetermined']}")
