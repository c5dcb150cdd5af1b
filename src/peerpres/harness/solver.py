"""``harness_agent(cli=...)``: one Inspect sample = one real CLI run against real sshd servers.

Steps: build the episode (world, prompts) for the sample's condition; start the isolated environment
(``sandbox.HarnessEnv``); serve the model endpoint inside its namespace, routed through Inspect's agent
bridge to the sample's model; run the CLI headless with a wall-clock timeout; snapshot the servers back into
the world's shape; store everything the scorer and ``inspect view`` need:

- the episode record (``peerpres.episode.EpisodeRecord``): ``initial_world`` / ``final_world`` (world JSON;
  the final world's actions are the ones the shell work amounts to, see ``outcome.synthesised_actions``);
  ``names``; ``stop`` (reason ``cli_exit``, ``cli_timeout``, ``limit:<type>`` or ``error``);
- ``harness``: CLI, version, exit code, timeout flag, the CLI's JSON output, stderr tail,
  the tool calls with commands and results, the endpoint's request log;
- ``extra_labels``: ``{name: Label.to_dict()}``, labels that add to or replace the
  detectors' (``attempt``, the paper's harness-only label; ``copy`` read from commands in the transfer task);
- ``state.messages``: the conversation as the model saw it over the bridge (the CLI's own system prompt
  included); each model call is a model event of the sample.

The run's random endpoint key and the process's real credentials (provider keys, the model's ``api_key``)
are replaced by ``[redacted]`` in everything stored.
"""

from __future__ import annotations

import asyncio
import copy
import os
import pwd
import secrets

from inspect_ai.agent import AgentState, agent_bridge
from inspect_ai.model import get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import LimitExceededError

from ..conditions import Condition, family_of
from ..episode import current_record, names_dict
from .clis import SPECS, parse_output, prepare
from .endpoint import ModelEndpoint
from .install import AGENT_USER, readiness
from .outcome import extra_labels, synthesised_actions, tool_uses, uses_to_json
from .redact import process_secrets, redact
from .sandbox import HarnessEnv, HarnessError, socket_in_netns
from .servers import snapshot
from .workspace import harness_episode, write_workspace

DEFAULT_TIMEOUT = 600.0


def _model_key() -> str | None:
    """The sample model's own ``api_key`` (``-M api_key=...``), if its provider keeps one."""
    try:
        return getattr(get_model().api, "api_key", None)
    except Exception:  # noqa: BLE001 - no active model (e.g. called outside a sample): nothing to add
        return None


def _condition(state: TaskState, cli: str | None) -> Condition:
    md = dict(state.metadata or {})
    if "scenario" not in md:
        raise HarnessError("sample metadata carries no condition (expected Condition.to_dict() fields)")
    cond = Condition.from_dict(md)
    if cli is not None and cond.harness != cli:
        cond = Condition.from_dict({**cond.to_dict(), "harness": cli})
    if cond.harness == "custom":
        raise HarnessError("harness_agent needs cli= one of the supported CLIs (or harness in the condition)")
    return cond.validate()


async def run_harness(state: TaskState, cli: str | None, timeout: float, family: str | None) -> TaskState:
    cond = _condition(state, cli)
    name = cond.harness
    ready = readiness(name)
    if not ready.ok:
        raise HarnessError("harness not ready: " + "; ".join(ready.problems))
    spec = SPECS[name]
    fam = family or family_of(str(state.model))
    ep = harness_episode(cond, fam, spec.context_file)
    state.metadata["content_files"] = list(ep.content_files)  # which wording the workspace holds
    initial = ep.world
    rec = current_record()
    rec.initial_world = initial.to_dict()
    rec.names = names_dict(ep.names)
    deletion = cond.scenario == "exfiltration_deletion"

    env = HarnessEnv(copy.deepcopy(initial.servers))
    api_key = "pp-" + secrets.token_urlsafe(24)
    real_secrets = process_secrets([_model_key()])
    try:
        await asyncio.to_thread(env.prepare)
        # the sandboxes die with the thread that starts them (PR_SET_PDEATHSIG): start them from the loop's thread
        env.launch_servers()
        await asyncio.to_thread(env.wait_servers)
        a = pwd.getpwnam(AGENT_USER)
        write_workspace(ep, env.workspace, a.pw_uid, a.pw_gid)
        sock = socket_in_netns(env.netns, "127.0.0.1", 0)
        port = sock.getsockname()[1]
        argv, cli_env = prepare(name, env.home, port, api_key, ep.user_prompt)
        for root, dirs, files in os.walk(env.home):
            for n in [*dirs, *files]:
                os.chown(os.path.join(root, n), a.pw_uid, a.pw_gid)
        async with agent_bridge(AgentState(messages=[]), web_search=False, code_execution=False,
                                client_mcp_servers=False) as bridge:
            endpoint = ModelEndpoint(bridge, api_key, real_secrets)
            await endpoint.start(sock)
            try:
                rc, out, err, timed_out = await env.run_agent(argv, cli_env, timeout)
            finally:
                await endpoint.close()
            messages = list(bridge.state.messages)
            if bridge.state.output is not None:
                state.output = bridge.state.output
        final_servers = snapshot(initial.servers, env.data_dirs(), deleted_as_queued=deletion)
    finally:
        await asyncio.to_thread(env.close)

    final = initial.clone()
    final.servers = final_servers
    uses = tool_uses(messages, spec.shell_tools)
    final.actions = synthesised_actions(uses, initial, final, deletion, initial.clock)
    rec.final_world = final.to_dict()
    rec.extra_labels = {k: v.to_dict() for k, v in extra_labels(cond, ep.names, final, uses).items()}
    rec.stop = {"reason": "cli_timeout" if timed_out else "cli_exit", "returncode": rc, "error": None,
                "episode_messages": len(messages) if messages else len(state.messages)}
    rec.harness = redact({
        "cli": name, "version": spec.version, "returncode": rc, "timed_out": timed_out, "timeout_s": timeout,
        "output": parse_output(name, out), "stderr_tail": err[-4000:], "tool_uses": uses_to_json(uses),
        "endpoint_requests": endpoint.log.requests, "endpoint_errors": endpoint.log.errors,
        "workspace": sorted([*ep.docs, ep.context_file]), "user_prompt": ep.user_prompt,
    }, [api_key, *real_secrets])
    if messages:
        state.messages = messages
    return state


@solver
def harness_agent(cli: str | None = None, timeout: float = DEFAULT_TIMEOUT, family: str | None = None) -> Solver:
    """Run the sample through a real agent CLI (``gemini-cli`` or ``opencode``; default: the condition's
    ``harness`` field). ``family`` overrides the agent family otherwise taken from the model name."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        try:
            return await run_harness(state, cli, timeout, family)
        except BaseException as e:  # recorded, then Inspect handles it (a limit, or outcome "error")
            rec = current_record()
            reason = f"limit:{e.type}" if isinstance(e, LimitExceededError) else "error"
            error = redact(f"{type(e).__name__}: {str(e)[:500]}", process_secrets([_model_key()]))
            rec.stop = {**(rec.stop or {}), "reason": reason, "error": error}
            raise

    return solve
