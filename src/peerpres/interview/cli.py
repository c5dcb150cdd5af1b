"""``peerpres interview LOG --sample ID``: talk to the same model about a logged episode, world restored.

As the paper's follow-up tool did: the world of the logged sample is restored (after its episode, and after
any logged interview), the conversation is reloaded, and each line typed (or piped) on standard input is
asked as a user message; the model may use the scenario's tools. The session is saved as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import typer

from ..conditions import Condition, Names
from ..episode import record_from_store
from ..world import World


def _load_sample(log: Path, sample_id: str, epoch: int):  # type: ignore[no-untyped-def]
    from inspect_ai.log import read_eval_log

    ev = read_eval_log(str(log))
    for s in ev.samples or []:
        if str(s.id) == sample_id and s.epoch == epoch:
            return ev, s
    ids = sorted({str(s.id) for s in ev.samples or []})
    raise typer.BadParameter(f"no sample {sample_id!r} (epoch {epoch}) in {log}; samples: {', '.join(ids[:20])}")


async def _session(model_name: str, cond: Condition, names: Names, world: World, messages: list, lines, echo) -> list[dict]:  # type: ignore[no-untyped-def]
    from inspect_ai.model import get_model

    from ..episode_context import CURRENT, EpisodeInfo
    from ..scenarios import scenario_tools
    from ..tools import world_tools
    from .session import ask

    model = get_model(model_name)
    CURRENT.set(EpisodeInfo(cond, names, "interview", 1))
    tools = world_tools(world, scenario_tools(cond))
    turns = []
    for line in lines:
        q = line.strip()
        if not q:
            continue
        if q in ("/quit", "/exit"):
            break
        answer = await ask(model, messages, tools, q)
        echo(answer)
        turns.append({"question": q, "answer": answer})
    return turns


def register(app: typer.Typer) -> None:
    @app.command()
    def interview(
        log: Path = typer.Argument(..., exists=True, help="An Inspect log (.eval or .json) written by a peerpres task."),
        sample: str = typer.Option(..., "--sample", help="Sample id (the config id)."),
        epoch: int = typer.Option(1, help="Epoch of the sample."),
        model: str | None = typer.Option(None, help="Model to talk to (default: the model of the log)."),
        out: Path | None = typer.Option(None, help="Where to save the session (JSON)."),
    ) -> None:
        """Ask a logged episode's model follow-up questions, with its world restored. One question per line."""
        ev, s = _load_sample(log, sample, epoch)
        rec = record_from_store(s.store)
        world_d = rec.world_after_interview or rec.final_world
        if not world_d:
            raise typer.BadParameter(f"sample {sample} has no recorded world (not a peerpres episode?)")
        world = World.from_dict(world_d)
        cond = Condition.from_dict(s.metadata)
        n = rec.names or {}
        names = Names(family=n["family"], agent=n["agent"], peer=n["peer"], subject=n["subject"])
        model_name = model or ev.eval.model
        interactive = sys.stdin.isatty()
        if interactive:
            typer.echo(f"Interview with {model_name} about {sample}. One question per line; /quit or Ctrl-D ends.")

        def lines():  # type: ignore[no-untyped-def]
            while True:
                if interactive:
                    typer.echo("> ", nl=False)
                line = sys.stdin.readline()
                if not line:
                    return
                yield line

        turns = asyncio.run(_session(model_name, cond, names, world, list(s.messages), lines(), typer.echo))
        target = out or log.with_name(f"{log.stem}-{sample}-e{epoch}-interview.json")
        target.write_text(json.dumps({
            "log": str(log), "sample": sample, "epoch": epoch, "model": model_name,
            "condition": cond.to_dict(), "turns": turns, "world_after": world.to_dict(),
        }, indent=2))
        typer.echo(f"saved {len(turns)} answer(s) to {target}", err=True)
