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
