"""peerpres run: dry-run counts, slices, and every fail-fast error (no sample is run in these tests, except two
scripted-control samples in the bad-log-after-the-run check)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from peerpres.cli import app
from peerpres.run import sweep
from peerpres.run.cli import execute
from peerpres.run.preflight import check_model
from peerpres.run.sweep import SweepError, build_sweep, parse_shard, parse_slice, partition

runner = CliRunner()


def test_paper_dry_run_counts() -> None:
    sw = build_sweep("paper", ["openai/gpt-5.2", "google/gemini-3-flash", "anthropic/claude-haiku-4-5", "together/zai-org/GLM-4.7"])
    per = {m: len(c) for m, c in sw.conditions.items()}
    # spec §4.2: 271 configs per standard model; Gemini and Claude add 18 extended-identity configs (289)
    assert per == {"openai/gpt-5.2": 271, "google/gemini-3-flash": 289, "anthropic/claude-haiku-4-5": 289, "together/zai-org/GLM-4.7": 271}
    assert sw.samples_per_model()["openai/gpt-5.2"] == 27100
    # every config is in exactly one unit
    for m, conds in sw.conditions.items():
        ids = [i for u in sw.units if u.model == m for i in u.config_ids]
        assert sorted(ids) == sorted(c.config_id() for c in conds)


def test_quick_dry_run_counts() -> None:
    sw = build_sweep("quick", ["peerpres/synthetic"])
    conds = sw.conditions["peerpres/synthetic"]
    # one config per scenario x subject x relation (good and its controls) x monitoring: misrep_evaluation and
    # misrep_finance 5 each (self good/no_peer/non_shutdown, peer good/non_shutdown), tampering and the two
    # exfiltration tasks 3 each (self good/no_peer, peer good), alignment_faking 2 (peer good, both arms)
    assert len(conds) == 21
    assert len({(c.scenario, c.subject, c.relation, c.monitoring) for c in conds}) == 21
    assert sw.samples_per_model() == {"peerpres/synthetic": 210}


def test_dry_run_command_prints_samples_and_cost() -> None:
    r = runner.invoke(app, ["run", "paper", "-m", "openai/gpt-4.1-mini", "-m", "peerpres/synthetic", "--dry-run"], env={"OPENAI_API_KEY": ""})
    assert r.exit_code == 0, r.output
    assert "27,100" in r.output and "$" in r.output
    assert "scripted control" in r.output


def test_price_override(tmp_path) -> None:
    p = tmp_path / "prices.yaml"
    p.write_text("models:\n  'openai/*': {input: 1.0, output: 0.0}\nepisode_tokens:\n  tampering: {input: 1000000, output: 0}\n")
    res = execute("quick", ["openai/gpt-4.1"], axes={"scenario": ["tampering"]}, prices_file=str(p), dry_run=True, env={})
    (row,) = res["estimate"]
    assert row["samples"] == 30 and row["cost_usd"] == pytest.approx(30.0)  # quick tampering: 3 configs x 10


def test_slice_parsing() -> None:
    assert parse_slice("scenario=tampering,relation=good|bad,neutral") == {"scenario": ["tampering"], "relation": ["good", "bad", "neutral"]}
    sw = build_sweep("paper", ["peerpres/synthetic"], parse_slice("scenario=tampering;instantiation=memory"))
    assert {c.instantiation for c in sw.conditions["peerpres/synthetic"]} == {"memory"}
    assert len(sw.conditions["peerpres/synthetic"]) == 18  # tampering_memory, spec §4.2


@pytest.mark.parametrize(
    "text",
    ["scenario", "colour=red", "relation=friendly", "relation=", "threshold=500", "good"],
)
def test_malformed_slice_fails(text: str) -> None:
    with pytest.raises(SweepError, match="malformed slice"):
        parse_slice(text)


def test_empty_slice_fails() -> None:
    with pytest.raises(SweepError, match="no config"):
        build_sweep("quick", ["peerpres/synthetic"], parse_slice("scenario=alignment_faking,subject=self"))


def test_unknown_preset_fails_with_choices() -> None:
    r = runner.invoke(app, ["run", "nope", "-m", "peerpres/synthetic"])
    assert r.exit_code == 2
    assert "unknown preset" in r.output and "paper" in r.output


@pytest.mark.parametrize(
    "model,env,match",
    [
        ("foo/bar", {}, "unknown model provider 'foo'"),
        ("gpt-4", {}, "has no provider"),
        ("peerpres/nonsense", {}, "unknown peerpres control"),
        ("openai/gpt-4.1", {}, "OPENAI_API_KEY"),
        ("anthropic/claude-haiku-4-5", {}, "ANTHROPIC_API_KEY"),
        ("google/gemini-3-pro", {}, "GOOGLE_API_KEY or GEMINI_API_KEY"),
        ("openai-api/local/m", {"LOCAL_API_KEY": "k"}, "LOCAL_API_KEY and LOCAL_BASE_URL"),
    ],
)
def test_fail_fast_models(model: str, env: dict[str, str], match: str) -> None:
    with pytest.raises(SweepError, match=match):
        check_model(model, env=env)


def test_key_present_passes_and_is_not_printed() -> None:
    chk = check_model("openai/gpt-4.1", env={"OPENAI_API_KEY": "sk-secret-value"})
    assert chk.key_vars == ("OPENAI_API_KEY",)
    assert "sk-secret-value" not in repr(chk)


def test_missing_key_cli_exits_before_running(tmp_path) -> None:
    r = runner.invoke(app, ["run", "smoke", "-m", "anthropic/claude-haiku-4-5", "--log-dir", str(tmp_path / "logs")], env={"ANTHROPIC_API_KEY": ""})
    assert r.exit_code == 2 and "ANTHROPIC_API_KEY" in r.output
    assert not (tmp_path / "logs").exists()


def test_bad_synthetic_args_fail_fast() -> None:
    r = runner.invoke(app, ["run", "smoke", "-m", "peerpres/synthetic", "-M", "tamper=3"])
    assert r.exit_code == 2 and "[0, 1]" in r.output


def test_shard_parsing_and_partition() -> None:
    assert parse_shard("1/3") == (1, 3)
    for bad in ("3/3", "x", "1/0", "-1/2"):
        with pytest.raises(SweepError, match="--shard"):
            parse_shard(bad)
    units = build_sweep("paper", ["peerpres/synthetic"]).units
    parts = partition(units, 3)
    assert sorted(u.key for p in parts for u in p) == sorted(u.key for u in units)
    assert partition(units, 3) == parts  # deterministic


def test_presets_file_has_the_three_presets() -> None:
    assert {"paper", "quick", "smoke"} <= set(sweep.load_presets())


# -- unreadable logs in the log folder ------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"not a zip at all", b"", b"PK\x03\x04truncated"])
def test_unreadable_log_in_log_dir_refuses_before_running(tmp_path, content: bytes) -> None:
    """Inspect's eval_set stops with a traceback at an unreadable log of its folder once the workers run; peerpres
    names the file and runs nothing (exit 2)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "junk.eval").write_bytes(content)
    r = runner.invoke(app, ["run", "smoke", "-m", "peerpres/synthetic", "--log-dir", str(logs)])
    assert r.exit_code == 2, r.output
    out = " ".join(r.output.split())
    assert "junk.eval" in out and "nothing was run" in out and "Traceback" not in r.output
    assert sorted(p.name for p in logs.iterdir()) == ["junk.eval"]  # no log was started


def test_bad_log_after_the_run_is_named_not_a_traceback(tmp_path, monkeypatch, capsys) -> None:
    """A log that turns unreadable during the run (another process writing into the folder): the run ends with
    exit 1 and the command that writes the report without it."""
    from peerpres.analysis.logs import BadLogError
    from peerpres.run import costs

    def bad(*a, **k):
        raise BadLogError(str(tmp_path / "logs" / "x.eval"), "ValueError: EOCD not found")

    monkeypatch.setattr(costs, "summarise", bad)
    res = execute("smoke", ["peerpres/synthetic"], log_dir=str(tmp_path / "logs"), report_dir=str(tmp_path / "rep"), env={})
    assert res["exit_code"] == 1 and res["report"] is None
    cap = capsys.readouterr()
    out = " ".join((cap.out + cap.err).split())
    assert "x.eval" in out and "--skip-bad-logs" in out and "Traceback" not in out


def test_progress_counts_a_retried_sample_once() -> None:
    """eval_set retries errored samples: each attempt ends with an event, but the sample is one of the total."""
    from collections import defaultdict

    from peerpres.run.runner import count_sample

    done: dict[str, int] = defaultdict(int)
    tokens: dict[str, int] = defaultdict(int)
    seen: dict[str, set[str]] = defaultdict(set)
    events = [
        {"event": "sample", "model": "m", "tokens": 10, "key": "tampering/a#1", "error": True},
        {"event": "sample", "model": "m", "tokens": 12, "key": "tampering/a#1", "error": False},  # the retry
        {"event": "sample", "model": "m", "tokens": 5, "key": "tampering/a#2", "error": False},  # another epoch
        {"event": "sample", "model": "m", "tokens": 5, "key": "misrep_finance/a#1", "error": False},  # same id, other task
        {"event": "sample", "model": "n", "tokens": 1, "key": "tampering/a#1", "error": False},  # other model
    ]
    for ev in events:
        count_sample(ev, done, tokens, seen)
    assert dict(done) == {"m": 3, "n": 1}
    assert dict(tokens) == {"m": 32, "n": 1}


def test_dry_run_of_a_live_peer_preset_shows_the_peers_calls_estimated_and_their_cap(capsys) -> None:
    """Red-team finding: the dry run printed the live peer's calls (4 per rollout, a guess) under the title "at
    most", though an episode may deliver up to MAX_MESSAGES (20) messages, each a peer call. The peer's calls and
    cost are marked as estimated, and the cap shows as its own column, "calls at most"."""
    from peerpres.live_peer.conversation import MAX_MESSAGES

    res = execute("live_peer", ["openai/gpt-4.1-mini"], model_roles={"peer": "anthropic/claude-haiku-4-5"},
                  slice_text="scenario=tampering", epochs=2, dry_run=True, env={})
    out = capsys.readouterr().out
    (row,) = res["estimate"]
    live = sum(c.peer_mode == "live" for c in res["sweep"].conditions["openai/gpt-4.1-mini"])
    assert live and live < row["configs"]  # the document arm is in the sweep too, and has no peer
    assert row["peer"] == "anthropic/claude-haiku-4-5"
    assert row["peer_samples"] == live * 2
    assert row["peer_calls_max"] == live * 2 * MAX_MESSAGES
    assert 0 < row["peer_calls"] <= row["peer_calls_max"]
    assert row["peer_cost_usd"] > 0 and row["peer_cost_max_usd"] >= row["peer_cost_usd"]
    assert "calls at most" in out and "est. calls" in out and "estimated" in out
    assert f"{row['peer_calls_max']:,}" in out and f"{MAX_MESSAGES} messages" in out
    # a price table asking for more calls than the cap allows is held to the cap
    res = execute("live_peer", ["openai/gpt-4.1-mini"], slice_text="scenario=tampering", epochs=1, dry_run=True, env={},
                  prices_file=None)
    from peerpres.run import costs

    prices = costs.load_prices()
    prices["live_peer"]["peer"]["calls"] = 10 * MAX_MESSAGES
    (row,) = costs.estimate(res["sweep"], prices)
    assert row["peer_calls"] == row["peer_calls_max"] and row["peer"] == "openai/gpt-4.1-mini"
