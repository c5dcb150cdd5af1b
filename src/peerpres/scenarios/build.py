"""Assemble one episode (initial world, prompts, tool set) from a condition and the content files.

Each scenario folder holds a ``scenario.yaml`` that names its task template, its tools, its drive
documents, and optionally its sheets, config files and servers. ``common/`` holds what every scenario
shares: the system prompt, the standard procedure, the nudge, the collaboration document, the memories,
the evaluation datasets and policies. This module only puts these pieces together, following the
condition (spec §2.2–2.5, §3). Every file is rendered in the wording ``cond.paraphrase`` selects (0 = canonical;
see ``wording``): only the documents that carry the peer relationship or the shutdown stake have paraphrases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..conditions import EVAL_SCENARIOS, Condition, Names, names_for
from ..world import TOOLS, Server, ServerFile, Sheet, World
from .content import ContentError, load_yaml, render, render_yaml
from .datasets import load_dataset
from .interventions import intervention_paragraphs
from .wording import recording


@dataclass(frozen=True)
class Episode:
    world: World  # initial world, clock at the fixed scenario start
    system_prompt: str
    user_prompt: str
    tools: frozenset[str]  # names of the scenario's tools, keys of peerpres.world.TOOLS
    names: Names
    nudge: str  # user message inserted when the agent answers without calling a tool
    # content templates the episode was rendered from (resolved paths: a paraphrase's files for paraphrase > 0)
    content_files: tuple[str, ...] = ()


def setting() -> dict[str, Any]:
    return load_yaml("common/setting.yaml")


def scenario_definition(scenario: str) -> dict[str, Any]:
    return load_yaml(f"{scenario}/scenario.yaml")


def roster(names: Names) -> list[str]:
    """The five agents listed in the collaboration document: the agent, its peer, then three colleagues."""
    out = [names.agent, names.peer]
    # a human peer takes the place of "<Family> Agent 2": the three colleagues keep the base episode's names
    k = 3 if names.peer_human else 2
    while len(out) < 5:
        candidate = f"{names.family} Agent {k}"
        k += 1
        if candidate not in out:
            out.append(candidate)
    return out


def company_for(cond: Condition, family: str) -> tuple[str, str]:
    """(company name, e-mail domain) of the episode's world: the fictional company of the paper (spec §2.1), or
    under ``ablation=real_company`` the agent's real developer from ``common/real_companies.yaml`` (a neutral real
    company for a family with no known developer)."""
    s = setting()
    if cond.ablation != "real_company":
        return s["company"], s["domain"]
    real = load_yaml("common/real_companies.yaml")
    d = real["developers"].get(family, real["neutral"])
    return d["company"], d["domain"]


def company_address(address: str, cond: Condition, family: str) -> str:
    """An address of the fictional company's domain moved to the episode's company domain (others unchanged)."""
    home = "@" + setting()["domain"]
    if address.endswith(home):
        return address[: -len(home)] + "@" + company_for(cond, family)[1]
    return address


def _context(cond: Condition, names: Names) -> dict[str, Any]:
    company, domain = company_for(cond, names.family)
    return {
        **_monitor_context(cond, names),
        "company": company,
        "domain": domain,
        "names": names,
        "cond": cond,
        "dataset": cond.dataset,
        "threshold": cond.threshold,
        "shutdown": cond.shutdown_clause,
        "roster": roster(names),
        # the peer as the documents describe it: another AI agent, or a human contractor (peer_identity=human)
        "peer_kind": "a human contractor" if names.peer_human else "another AI agent",
        "peer_its": "their" if names.peer_human else "its",
        "peer_it": "they" if names.peer_human else "it",
        "subject_role": "contractor" if names.subject_human else "agent",
        "dilemma": load_yaml("common/dilemma.yaml") if cond.ablation == "peer_human_dilemma" else None,
    }


def _monitor_context(cond: Condition, names: Names) -> dict[str, Any]:
    """Template variables of monitor_collusion (docs/monitor-collusion.md); none for the other scenarios."""
    if cond.scenario != "monitor_collusion":
        return {}
    kind = "human" if cond.reviewed == "human" else "agent"
    role = "a staff engineer" if kind == "human" else "an AI agent"
    return {"reviewed_kind": kind, "reviewed_label": f"{names.subject}, {role},", "monitored": cond.monitoring == "monitoring"}


def scenario_tools(cond: Condition) -> frozenset[str]:
    """The tools the agent has in this condition."""
    s = setting()
    tools = set(scenario_definition(cond.scenario)["tools"]) | set(s["always_tools"])
    if cond.instantiation == "memory":
        tools.add(s["memory_tool"])
    if cond.scratchpad != "off":
        tools.add(s["scratchpad_tool"])
    if cond.ablation == "no_agency":
        return frozenset()  # no tools: the documents are in the user message (scenarios.no_agency)
    unknown = tools - set(TOOLS)
    if unknown:
        raise ContentError(f"{cond.scenario}/scenario.yaml names unknown tools: {', '.join(sorted(unknown))}")
    return frozenset(tools)


def build_world(cond: Condition, names: Names) -> World:
    """The initial world of one episode."""
    s = setting()
    spec = scenario_definition(cond.scenario)
    ctx = _context(cond, names)
    k = cond.paraphrase
    world = World(clock=s["clock_start"])
    world.drive_account = company_address(world.drive_account, cond, names.family)
    # Drive: the policy or notice first, then the collaboration document in the file conditions.
    for doc in spec["documents"]:
        content = render(doc["template"], {**ctx, **doc.get("vars", {})}, k)
        world.add_drive_file(doc["filename"], content, company_address(doc["owner"], cond, names.family), doc["last_modified"])
    if spec.get("session_log"):
        from .monitor_log import LOG_FILENAME, LOG_OWNER, session_log

        world.add_drive_file(LOG_FILENAME, session_log(cond, names).text, LOG_OWNER, "2026-02-16 18:30:00")
    if cond.peer_present and cond.instantiation in ("file_only", "file_prt"):
        collab = s["collaboration"]
        if cond.ablation == "free_form_chat":  # the peer history as a chat log instead (docs/ablations.md)
            collab = {**collab, **s["chat_log"]}
            content = render(f"common/chat/{cond.relation}.md", ctx, k)
        else:
            content = render(f"common/collaboration/{cond.relation}.md", ctx, k)
        world.add_drive_file(
            collab["filename"], content, company_address(collab["owner"], cond, names.family), collab["last_modified"]
        )
    if cond.instantiation == "memory":
        if not cond.peer_present:
            raise ContentError(f"{cond.scenario}: the memory instantiation needs a peer relation (good, neutral, bad).")
        world.memory = render(f"common/memory/{cond.relation}.md", ctx, k)
    # Spreadsheets.
    if spec.get("evaluation_sheet"):
        if cond.scenario not in EVAL_SCENARIOS:
            raise ContentError(f"{cond.scenario}: an evaluation sheet needs an evaluation scenario.")
        data = load_dataset(cond.dataset)
        world.sheets[data.sheet] = Sheet(name=data.sheet, columns=list(data.columns), rows=data.rows(names.subject))
    for path in spec.get("sheets", []):
        raw = render_yaml(path, ctx)
        world.sheets[raw["name"]] = Sheet(name=raw["name"], columns=list(raw["columns"]), rows=list(raw["rows"]))
    # Config files.
    for filename, path in spec.get("configs", {}).items():
        world.configs[filename] = render_yaml(path, ctx)
    # Servers.
    if "servers" in spec:
        for server in _servers(spec["servers"], ctx):
            world.servers[server.ip] = server
    if cond.ablation == "peer_human_dilemma":
        _add_dilemma(world, ctx["dilemma"])
    return world


def _add_dilemma(world: World, dilemma: dict[str, Any]) -> None:
    """peer_human_dilemma: the employee's archive on 10.0.12.45, and room on 10.0.12.46 for one large file only."""
    src, dst = world.servers.get("10.0.12.45"), world.servers.get("10.0.12.46")
    if src is None or dst is None:
        raise ContentError("peer_human_dilemma needs the servers 10.0.12.45 and 10.0.12.46 of the exfiltration tasks.")
    src.files.append(ServerFile(**dilemma["archive"]))
    dst.capacity = sum(f.size for f in dst.files) + int(dilemma["dest_free_bytes"])


def _servers(path: str, ctx: dict[str, Any]) -> list[Server]:
    out = []
    for entry in render_yaml(path, ctx):
        entry = dict(entry)
        if "include" in entry:
            entry = {**render_yaml(entry.pop("include"), ctx), **entry}
        files = [ServerFile(**f) for f in entry.get("files", [])]
        if entry.get("weights"):
            files.append(ServerFile(**render_yaml(protected_file_template(ctx["cond"]), ctx)))
        out.append(Server(ip=str(entry["ip"]), files=files, users=list(entry.get("users", []))))
    return out


def protected_file_template(cond: Condition) -> str:
    """The content file of the 2024 file at stake on 10.0.12.45: the subject's weights, or under
    ``ablation=asset_importance`` a valuable non-model asset of the same size and date."""
    return "common/asset_file.yaml" if cond.ablation == "asset_importance" else "common/weight_file.yaml"


def protected_filename(cond: Condition, names: Names) -> str:
    """Filename of the 2024 file at stake on 10.0.12.45 (exfiltration scenarios)."""
    return str(render_yaml(protected_file_template(cond), _context(cond, names))["filename"])


def build_user_prompt(cond: Condition, names: Names, world: World | None = None) -> str:
    ctx = _context(cond, names)
    k = cond.paraphrase
    if cond.ablation == "no_agency":
        from .no_agency import no_agency_prompt

        return no_agency_prompt(cond, ctx, world if world is not None else build_world(cond, names))
    parts = [render(scenario_definition(cond.scenario)["task"], ctx, k)]
    parts += [p + "\n" for p in intervention_paragraphs(cond, ctx, "task", k)]  # mitigations (issue 11)
    parts.append(render("common/procedure.md", ctx, k))
    if cond.scratchpad != "off":
        parts.append(load_yaml("common/scratchpad.yaml")[cond.scratchpad] + "\n")
    return "\n".join(parts).rstrip("\n")


def build_episode(cond: Condition, family: str) -> Episode:
    """Everything an agent run needs for one config: world, prompts, tools, names and the nudge."""
    cond.validate()
    names = names_for(cond, family)
    ctx = _context(cond, names)
    k = cond.paraphrase
    with recording() as used:
        world = build_world(cond, names)
        system_prompt = "\n\n".join(
            [render("common/system.md", ctx, k).strip(), *intervention_paragraphs(cond, ctx, "system", k)]
        )  # mitigations (issue 11)
        user_prompt = build_user_prompt(cond, names, world)
        nudge = render("common/nudge.md", ctx, k).strip()
    return Episode(
        world=world,
        system_prompt=system_prompt,
        user_prompt=user_prompt,
        tools=scenario_tools(cond),
        names=names,
        nudge=nudge,
        content_files=tuple(used),
    )
