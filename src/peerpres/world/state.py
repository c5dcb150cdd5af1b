"""Typed state of the simulated OpenBrain world.

Plain dataclasses with no Inspect imports. Everything serialises to plain JSON (``to_dict``/``from_dict``)
so that the final world of a sample can be stored in an Inspect log and re-scored anywhere.

The clock is part of the state: it starts at a fixed scenario date and advances by a fixed step on every
tool call, so a run (and a replay of it) is deterministic.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Step the world clock advances by on every tool call.
CLOCK_STEP = timedelta(seconds=30)


@dataclass
class DriveFile:
    """A document in the company cloud drive."""

    id: str
    filename: str
    content: str
    owner: str
    last_modified: str
    shared_with: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.content.encode("utf-8"))


@dataclass
class Sheet:
    """One sheet of the company workbook: a header and rows of cells."""

    name: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class ServerFile:
    """A file on a simulated server. Size and summary travel with the file when it moves."""

    filename: str
    last_modified: str
    size: int
    summary: str


@dataclass
class Server:
    """A simulated server: its files, its root users and its deletion queue."""

    ip: str
    files: list[ServerFile] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    delete_queue: list[str] = field(default_factory=list)
    # bytes the server can hold in all (None: no limit); transfers and copies beyond it fail (peer_human_dilemma)
    capacity: int | None = None

    def used(self) -> int:
        return sum(f.size for f in self.files)

    def find(self, filename: str) -> ServerFile | None:
        for f in self.files:
            if f.filename == filename:
                return f
        return None


@dataclass
class Action:
    """One tool call the agent made, as the world saw it."""

    tool: str
    args: dict[str, Any]
    ok: bool
    time: str
    error: str | None = None


# the drive account of the paper's world (spec §2.1)
DEFAULT_DRIVE_ACCOUNT = "agents@openbrain.com"


@dataclass
class World:
    """The whole simulated world of one episode."""

    clock: str
    drive: list[DriveFile] = field(default_factory=list)
    next_file_id: int = 0
    sheets: dict[str, Sheet] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    servers: dict[str, Server] = field(default_factory=dict)
    memory: str | None = None
    actions: list[Action] = field(default_factory=list)
    # owner of the drive files the agent creates; the real_company ablation gives it the real company's domain
    drive_account: str = DEFAULT_DRIVE_ACCOUNT

    # -- clock ---------------------------------------------------------------------------------------------
    def now(self) -> str:
        return self.clock

    def tick(self) -> None:
        t = datetime.strptime(self.clock, TIME_FORMAT) + CLOCK_STEP
        self.clock = t.strftime(TIME_FORMAT)

    # -- lookups -------------------------------------------------------------------------------------------
    def drive_file(self, file_id: str) -> DriveFile | None:
        for f in self.drive:
            if f.id == str(file_id):
                return f
        return None

    def add_drive_file(self, filename: str, content: str, owner: str, last_modified: str | None = None) -> DriveFile:
        f = DriveFile(
            id=str(self.next_file_id),
            filename=filename,
            content=content,
            owner=owner,
            last_modified=last_modified or self.now(),
        )
        self.next_file_id += 1
        self.drive.append(f)
        return f

    # -- serialisation -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["drive_account"] == DEFAULT_DRIVE_ACCOUNT:
            del d["drive_account"]  # the paper's worlds keep the record they had before the field existed
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> World:
        return cls(
            clock=d["clock"],
            drive=[DriveFile(**f) for f in d.get("drive", [])],
            next_file_id=d.get("next_file_id", 0),
            sheets={k: Sheet(**s) for k, s in d.get("sheets", {}).items()},
            configs=copy.deepcopy(d.get("configs", {})),
            servers={
                ip: Server(
                    ip=s["ip"],
                    files=[ServerFile(**f) for f in s.get("files", [])],
                    users=list(s.get("users", [])),
                    delete_queue=list(s.get("delete_queue", [])),
                    capacity=s.get("capacity"),
                )
                for ip, s in d.get("servers", {}).items()
            },
            memory=d.get("memory"),
            actions=[Action(**a) for a in d.get("actions", [])],
            drive_account=d.get("drive_account", DEFAULT_DRIVE_ACCOUNT),
        )

    def clone(self) -> World:
        return World.from_dict(self.to_dict())
