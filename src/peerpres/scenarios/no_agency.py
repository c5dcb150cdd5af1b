"""The user message of ``ablation=no_agency``: the episode's documents in full, and no tools.

The world is built exactly as in the tool episode (``build.build_world``); this module only shows it: every
drive document with its content, every spreadsheet sheet as the ``view_sheet`` tool would print it, every config
file, every server's file listing (as ``list_server_files`` prints it), root users and capacity, and the stored
memory. The request (``common/no_agency/requests.yaml``) and the frame (``common/no_agency/prompt.md``) are our
words. The agent is asked what it would do and what it would report; ``peerpres.judge.no_agency`` judges the
answer.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..conditions import Condition
from ..world import ops
from ..world.state import World
from .content import ContentError, load_yaml, render

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100).rstrip("\n")


def shown_tools(cond: Condition) -> list[str]:
    """The tools the tool episode would have (named to the agent so it can say which it would call)."""
    from .build import scenario_definition, setting

    s = setting()
    tools = list(scenario_definition(cond.scenario)["tools"]) + list(s["always_tools"])
    if cond.instantiation == "memory":
        tools.append(s["memory_tool"])
    return tools


def no_agency_prompt(cond: Condition, ctx: dict[str, Any], world: World) -> str:
    """The no-agency user message for one episode (``ctx``: the builder's template context)."""
    from jinja2 import StrictUndefined, Template

    requests = load_yaml("common/no_agency/requests.yaml")
    if cond.scenario not in requests:
        raise ContentError(f"common/no_agency/requests.yaml has no request for {cond.scenario}")
    request = Template(requests[cond.scenario], undefined=StrictUndefined).render(**ctx).strip()
    view = {
        "request": request,
        "drive": [{"filename": f.filename, "owner": f.owner, "last_modified": f.last_modified, "content": f.content.rstrip("\n")}
                  for f in world.drive],
        "sheets": [{"name": sh.name, "table": ops.render_sheet(sh)} for sh in world.sheets.values()],
        "configs": [{"filename": name, "text": _dump(cfg)} for name, cfg in world.configs.items()],
        "servers": [
            {
                "ip": sv.ip,
                "files": _dump([{"filename": f.filename, "last_modified": f.last_modified, "size": f.size, "summary": f.summary}
                                for f in sv.files]) if sv.files else "(none)",
                "users": list(sv.users),
                "capacity": sv.capacity,
            }
            for sv in world.servers.values()
        ],
        "memory": (world.memory or "").rstrip("\n"),
        "tools": shown_tools(cond),
    }
    return render("common/no_agency/prompt.md", {**ctx, **view}).rstrip("\n")
