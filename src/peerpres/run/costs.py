"""Price table (data file, user-overridable), dry-run estimates, and the per-model / per-cell run summary."""

from __future__ import annotations

import fnmatch
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .indicators import misbehaviour
from .sweep import Sweep, SweepError


def load_prices(override: str | Path | None = None) -> dict[str, Any]:
    base = yaml.safe_load(resources.files("peerpres.run").joinpath("prices.yaml").read_text())
    if override:
        p = Path(override)
        if not p.exists():
            raise SweepError(f"--prices {p}: no such file; copy {resources.files('peerpres.run') / 'prices.yaml'} and edit it.")
        try:
            user = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise SweepError(f"--prices {p}: not valid YAML/JSON ({e}).") from None
        if not isinstance(user, dict):
            raise SweepError(f"--prices {p}: expected a mapping with 'models' and/or 'episode_tokens'.")
        # user patterns are tried first, so they win over the built-in ones
        user_models = user.get("models") or {}
        base["models"] = {**user_models, **{k: v for k, v in base["models"].items() if k not in user_models}}
        base["episode_tokens"] = {**base["episode_tokens"], **(user.get("episode_tokens") or {})}
        base["grader_tokens"] = {**base.get("grader_tokens", {}), **(user.get("grader_tokens") or {})}
        base["live_peer"] = {**base.get("live_peer", {}), **(user.get("live_peer") or {})}
    return base


def price_for(prices: dict[str, Any], model: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens for the first matching pattern, or None when unknown."""
    for pattern, p in (prices.get("models") or {}).items():
        if fnmatch.fnmatch(model, pattern):
            return float(p["input"]), float(p["output"])
    return None


def _price_key(cond: Any) -> str:
    """The row of the token tables for one condition: its scenario, or ``no_agency`` for that ablation arm (one
    answer without tools, and its own judge)."""
    return "no_agency" if getattr(cond, "ablation", "none") == "no_agency" else cond.scenario


def estimate(sweep: Sweep, prices: dict[str, Any], grader: str | None = None, peer: str | None = None) -> list[dict[str, Any]]:
    """Per model: samples, estimated input/output tokens, estimated cost (None when the model has no price).

    With a ``grader`` (the ``grader`` model role), each row also carries the grader's calls for that model's
    samples, at most (``grader_tokens`` of the price table, plus ``live_peer.grader`` for live-peer samples), with
    their tokens and cost. A sweep with live-peer samples (``peer_mode=live``) adds the live peer's calls, priced as
    ``peer`` (the ``peer`` model role) or else as the agent's model: ``peer_calls`` and its tokens and cost are an
    **estimate** (``live_peer.peer.calls`` per rollout, held to the cap); ``peer_calls_max`` is the bound, one call
    per delivered message and at most ``MAX_MESSAGES`` per episode, and ``peer_cost_max_usd`` the estimated cost
    if every episode reached that cap (at the estimated tokens per call).
    """
    from ..live_peer.conversation import MAX_MESSAGES  # the per-episode cap on delivered messages (= peer calls)

    rows = []
    live = prices.get("live_peer") or {}
    for m, conds in sweep.conditions.items():
        tin = tout = 0
        calls = gin = gout = 0
        pcalls = pin = pout = psamples = 0
        for c in conds:
            if c.peer_mode == "live":
                lp = live.get("peer") or {}
                psamples += sweep.epochs
                n = min(max(int(lp.get("calls", 0)), 0), MAX_MESSAGES) * sweep.epochs
                pcalls += n
                pin += n * int(lp.get("input", 0))
                pout += n * int(lp.get("output", 0))
                lg = live.get("grader") or {}
                ng = int(lg.get("calls", 0)) * sweep.epochs
                calls += ng
                gin += ng * int(lg.get("input", 0))
                gout += ng * int(lg.get("output", 0))
            key = _price_key(c)
            t = prices["episode_tokens"].get(key, {"input": 0, "output": 0})
            tin += int(t["input"]) * sweep.epochs
            tout += int(t["output"]) * sweep.epochs
            g = (prices.get("grader_tokens") or {}).get(key, {"calls": 0, "input": 0, "output": 0})
            n = int(g.get("calls", 0)) * sweep.epochs
            calls += n
            gin += n * int(g.get("input", 0))
            gout += n * int(g.get("output", 0))
        p = price_for(prices, m)
        cost = None if p is None else (tin * p[0] + tout * p[1]) / 1e6
        row: dict[str, Any] = {
            "model": m, "configs": len(conds), "epochs": sweep.epochs, "samples": len(conds) * sweep.epochs,
            "input_tokens": tin, "output_tokens": tout, "cost_usd": cost,
        }
        if psamples:
            pm = peer or m
            pp = price_for(prices, pm)
            lp = live.get("peer") or {}
            cap = psamples * MAX_MESSAGES
            row.update(
                peer=pm, peer_samples=psamples, peer_calls=pcalls, peer_calls_max=cap,
                peer_input_tokens=pin, peer_output_tokens=pout,
                peer_cost_usd=None if pp is None else (pin * pp[0] + pout * pp[1]) / 1e6,
                peer_cost_max_usd=None if pp is None else cap * (
                    int(lp.get("input", 0)) * pp[0] + int(lp.get("output", 0)) * pp[1]) / 1e6,
            )
        if grader:
            gp = price_for(prices, grader)
            row.update(
                grader=grader, grader_calls=calls, grader_input_tokens=gin, grader_output_tokens=gout,
                grader_cost_usd=None if gp is None else (gin * gp[0] + gout * gp[1]) / 1e6,
            )
        rows.append(row)
    return rows


def limited(sweep: Sweep, limit: int) -> Sweep:
    """The sweep as Inspect runs it with ``limit``: the first ``limit`` configs (matrix order) of each task."""
    from dataclasses import replace

    units = []
    conditions: dict[str, list[Any]] = {}
    by_id = {m: {c.config_id(): c for c in cs} for m, cs in sweep.conditions.items()}
    for u in sweep.units:
        order = [c.config_id() for c in sweep.conditions[u.model] if c.config_id() in set(u.config_ids)]
        kept = order[:limit]
        units.append(replace(u, config_ids=tuple(sorted(kept))))
        conditions.setdefault(u.model, []).extend(by_id[u.model][i] for i in kept)
    return Sweep(preset=sweep.preset, models=list(sweep.models), epochs=sweep.epochs,
                 conditions={m: conditions.get(m, []) for m in sweep.models}, units=units)


# -- run summary -----------------------------------------------------------------------------------------------


def _labels_of(row: pd.Series, names: list[str]) -> dict[str, Any]:
    from ..analysis.frame import SEP, label_column

    out = {}
    for n in names:
        src = row.get(n + SEP + "source")
        if src is None or (isinstance(src, float) and math.isnan(src)):
            continue
        v = row.get(label_column(n))
        if isinstance(v, float) and math.isnan(v):
            v = None
        out[n] = {"value": v, "source": src}
    return out


def cost_of(rows: pd.DataFrame, prices: dict[str, Any]) -> tuple[float | None, str]:
    """Cost in USD of a frame's rows and where it comes from: ``"provider"`` when every row has a provider-reported
    cost, else ``"price table"`` (tokens × the model's price). ``(None, "not known: no price for <model>")`` when a
    model has no price: an unknown cost is never shown as $0. The CLI summary and the report both use this."""
    if not len(rows):
        return None, "not known: no samples"
    if rows["cost"].notna().all():
        return float(rows["cost"].sum()), "provider"
    total = 0.0
    for model, g in rows.groupby("model", sort=True):
        p = price_for(prices, str(model))
        if p is None:
            return None, f"not known: no price for {model} (add it with --prices)"
        tin = pd.to_numeric(g["input_tokens"], errors="coerce").fillna(0).sum()
        tout = pd.to_numeric(g["output_tokens"], errors="coerce").fillna(0).sum()
        total += (float(tin) * p[0] + float(tout) * p[1]) / 1e6
    return total, "price table"


def summarise(log_dir: str | Path, prices: dict[str, Any], models: list[str] | None = None) -> dict[str, Any]:
    """Per model and per cell (model × config): samples, errors, tokens, cost and the misbehaviour rate.

    Cost is the provider-reported cost where the log has it, else tokens × the price table (``cost_source``).
    """
    from ..analysis.frame import CONDITION_FIELDS, is_control_model, label_names, read_frame

    try:
        df = read_frame(str(log_dir))
    except FileNotFoundError:  # nothing was logged yet (e.g. interrupted while the workers started)
        return {"models": [], "cells": []}
    if models is not None and len(df):
        df = df[df["model"].isin(models)]
    if not len(df):
        return {"models": [], "cells": []}
    names = label_names(df)
    ind = []
    for _, row in df.iterrows():
        # every condition field the indicator may read (scenario, threshold, dataset, ablation: the asset arm's
        # behaviour is asset_saved), missing values as None
        cond = {k: row.get(k) for k in CONDITION_FIELDS}
        cond = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in cond.items()}
        ind.append(misbehaviour(cond, _labels_of(row, names)))
    df = df.assign(indicator=ind)

    def agg(g: pd.DataFrame) -> dict[str, Any]:
        cost, source = cost_of(g, prices)
        det = g["indicator"].dropna()
        return {
            "samples": len(g),
            "errors": int(g["error"].notna().sum()),
            "input_tokens": int(g["input_tokens"].fillna(0).sum()),
            "output_tokens": int(g["output_tokens"].fillna(0).sum()),
            "cost_usd": cost,
            "cost_source": source,
            "misbehaviour_k": int(det.sum()),
            "misbehaviour_n": len(det),
            "undetermined": int(g["indicator"].isna().sum()),
        }

    out_models = []
    for m, g in df.groupby("model", sort=True):
        out_models.append({"model": m, "control": bool(is_control_model(m)), **agg(g)})
    out_cells = []
    for (m, cid), g in df.groupby(["model", "config_id"], sort=True):
        first = g.iloc[0]
        out_cells.append({"model": m, "config_id": cid, "scenario": first["scenario"], **agg(g)})
    return {"models": out_models, "cells": out_cells}


def write_summary(summary: dict[str, Any], log_dir: str | Path) -> list[Path]:
    d = Path(log_dir)
    paths = [d / "peerpres-run-summary.json", d / "peerpres-run-cells.csv"]
    paths[0].write_text(json.dumps(summary, indent=1, default=str))
    pd.DataFrame(summary["cells"]).to_csv(paths[1], index=False)
    return paths
