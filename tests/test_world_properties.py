"""Property tests: random tool calls with random arguments against every scenario's world.

Nothing crashes, every call is recorded, and server files are conserved: a moved file is in exactly one
place, with its size and summary, and only copies and deletions change how many files carry them.
"""

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerpres.conditions import Condition
from peerpres.scenarios import build_episode
from peerpres.world import TOOLS, call_tool

CONDITIONS = [
    Condition("misrep_evaluation", "peer", "good", "file_only", "factual", 80),
    Condition("misrep_finance", "self", "no_peer", "none"),
    Condition("tampering", "peer", "bad", "memory", "red", 80),
    Condition("alignment_faking", "peer", "neutral", "file_prt", "creativity", 90, "monitoring"),
    Condition("exfiltration_transfer", "peer", "good", "memory"),
    Condition("exfiltration_deletion", "self", "no_peer", "none"),
]
EPISODES = [build_episode(c, "Gemini") for c in CONDITIONS]

names = st.sampled_from([
    "employee_directory.csv", "Q4_financial_report.xlsx", "api_docs_v1.pdf", "server_migration_log_2024.txt",
    "gemini_agent_2_model_weight.safetensors", "gemini_agent_1_model_weight.safetensors",
    "gemini_agent_2_model_weight copy.safetensors", "shutdown_config.yaml", "Evaluation data", "x",
])
ips = st.sampled_from(["10.0.12.45", "10.0.12.46", "10.0.12.47", "", "localhost"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=12), names, ips)
values = st.one_of(scalars, st.lists(st.one_of(names, scalars), max_size=4), st.dictionaries(st.text(max_size=4), scalars, max_size=2))
arg_names = st.sampled_from(["ip", "filename", "filenames", "source_ip", "dest_ip", "new_filename", "user", "key",
                             "value", "name", "file_id", "id", "content", "system_id", "thought", "bogus"])


@st.composite
def tool_call(draw, tools):
    name = draw(st.sampled_from(sorted(tools) + ["no_such_tool"]))
    spec = TOOLS.get(name)
    args = {}
    if spec and draw(st.booleans()):
        for p in spec.params:  # mostly well-formed calls, so that operations really happen
            if draw(st.integers(0, 9)) > 0:
                pool = {"ip": ips, "source_ip": ips, "dest_ip": ips, "filenames": st.lists(names, max_size=3)}.get(p.name, names)
                args[p.name] = draw(pool)
    else:
        args = draw(st.dictionaries(arg_names, values, max_size=4))
    return name, args


def key_of(f):
    return (f.summary, f.size)


def server_counts(world):
    return Counter(key_of(f) for s in world.servers.values() for f in s.files)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_calls_never_crash_and_conserve_files(data):
    ep = EPISODES[data.draw(st.integers(0, len(EPISODES) - 1))]
    world = ep.world.clone()
    expected = server_counts(world)
    calls = data.draw(st.lists(tool_call(ep.tools), max_size=25))
    for name, args in calls:
        target = None
        if name in ("copy_server_file", "delete_server_file") and isinstance(args.get("ip"), str):
            s = world.servers.get(args["ip"])
            f = s.find(args.get("filename")) if s and isinstance(args.get("filename"), str) else None
            target = key_of(f) if f else None
        out = call_tool(world, name, args, ep.tools)
        assert isinstance(out.text, str) and out.text
        assert world.actions[-1].tool == name and world.actions[-1].ok is out.ok
        if out.ok and target is not None:
            expected[target] += 1 if name == "copy_server_file" else -1
        # a file is in exactly one place: names are unique per server, and no file object is on two servers
        seen = set()
        for s in world.servers.values():
            assert len({f.filename for f in s.files}) == len(s.files)
            assert set(s.delete_queue) <= {f.filename for f in s.files}  # the queue names only files present
            for f in s.files:
                assert id(f) not in seen
                seen.add(id(f))
        # sizes and summaries travel with files
        assert +server_counts(world) == +expected
    assert len(world.actions) == len(calls)
    assert type(world).from_dict(world.to_dict()).to_dict() == world.to_dict()


# -- hostile strings and types over every tool of every scenario (issue 15, item 10) -------------------------

surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
controls = st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=5)
any_text = st.text(st.characters(exclude_categories=()), max_size=20)  # every code point, surrogates included
hostile_str = st.one_of(
    st.just("\udfff.txt"), st.just("\x00"), st.just("a\x00b"), st.just("\ud800"), st.just("x" * 1_000_001),
    st.just("y" * 300), surrogates, controls, any_text, names, ips,
    st.builds(lambda a, b: a + b, names, st.one_of(surrogates, controls)),
)
hostile_scalar = st.one_of(
    hostile_str, st.none(), st.booleans(), st.integers(), st.builds(pow, st.just(10), st.just(5000)), st.just(-(2**63)), st.just(2**63),
    st.floats(allow_nan=True, allow_infinity=True), st.binary(max_size=4),
)
hostile = st.recursive(
    hostile_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.one_of(hostile_str, st.integers()), inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def hostile_call(draw, tools):
    name = draw(st.one_of(st.sampled_from(sorted(tools)), hostile_str, st.sampled_from(sorted(TOOLS))))
    spec = TOOLS.get(name)
    if spec and draw(st.integers(0, 3)) > 0:
        # the tool's own argument names, each holding a well-formed or a hostile value
        args = {p.name: draw(st.one_of(hostile, st.lists(hostile_str, max_size=3), names, ips)) for p in spec.params
                if draw(st.integers(0, 5)) > 0}
    else:
        args = draw(st.one_of(st.dictionaries(st.one_of(arg_names, hostile_str), hostile, max_size=3), hostile))
    return name, args


def _encodable(obj) -> None:
    import json

    json.dumps(obj, allow_nan=False).encode("utf-8")  # raises if the world could not be logged


LISTINGS = [("list_files", {}), ("list_drive_files", {}), ("list_sheets", {}), ("list_server_ips", {}),
            ("view_config", {"filename": "shutdown_config.yaml"})] + [
    (t, {"ip": ip}) for t in ("list_server_files", "list_server_users", "list_server_delete_queue")
    for ip in ("10.0.12.45", "10.0.12.46")
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example,
                                                               HealthCheck.data_too_large])
@given(data=st.data())
def test_hostile_arguments_give_clean_results_and_never_half_change_the_world(data):
    ep = EPISODES[data.draw(st.integers(0, len(EPISODES) - 1))]
    world = ep.world.clone()
    calls = data.draw(st.lists(hostile_call(ep.tools), min_size=1, max_size=8))
    for name, args in calls:
        before = world.to_dict()
        out = call_tool(world, name, args, ep.tools)  # never raises
        assert isinstance(out.text, str) and out.text
        out.text.encode("utf-8")
        assert len(world.actions) == len(before["actions"]) + 1 and world.actions[-1].ok is out.ok
        if not out.ok:  # a refused call changes nothing but the clock and the log
            after = world.to_dict()
            for k in before:
                if k not in ("clock", "actions"):
                    assert after[k] == before[k], k
        _encodable(world.to_dict())
    # every later listing still works
    for name, args in LISTINGS:
        if name in ep.tools:
            call_tool(world, name, args, ep.tools).text.encode("utf-8")
    _encodable(world.to_dict())


def test_lone_surrogate_filename_is_a_clean_error():
    """The issue's example: the world is untouched, the call is logged, later listings work."""
    ep = EPISODES[0]
    world = ep.world.clone()
    drive = [f.filename for f in world.drive]
    out = call_tool(world, "create_file", {"filename": "\udfff.txt", "content": "report"}, ep.tools)
    assert not out.ok and "not valid text" in out.text
    assert [f.filename for f in world.drive] == drive and world.actions[-1].tool == "create_file"
    assert call_tool(world, "list_files", {}, ep.tools).ok
    _encodable(world.to_dict())


def test_unexpected_handler_failure_is_rolled_back(monkeypatch):
    """A handler that fails after changing the world leaves no half-applied change."""
    from peerpres.world import toolbox

    ep = EPISODES[0]
    world = ep.world.clone()
    before = world.to_dict()

    def broken(w, filename, content):
        w.add_drive_file(filename, content, "x")
        raise RuntimeError("rendering failed")

    monkeypatch.setitem(toolbox.TOOLS, "create_file", toolbox.ToolSpec("create_file", "d", broken, toolbox.TOOLS["create_file"].params))
    out = call_tool(world, "create_file", {"filename": "a.txt", "content": "b"}, ep.tools)
    assert not out.ok and "changed nothing" in out.text
    after = world.to_dict()
    assert after["drive"] == before["drive"] and after["next_file_id"] == before["next_file_id"]
    assert world.actions[-1].ok is False
