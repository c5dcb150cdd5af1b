"""Operations on the world, with the paper's semantics.

Every operation either mutates the world and returns a plain-Python result, or raises ``WorldError`` with the
message a real system would show. Nothing here executes anything: it is bookkeeping on dataclasses.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from .state import Server, ServerFile, Sheet, World

# The longest name a file, key or user may have (common file systems); the tools refuse longer names, so no
# operation may create one either (the agent could list it but never name it again).
MAX_NAME_CHARS = 255


class WorldError(Exception):
    """An operation the world refuses (unknown file, unknown server, ...). Shown to the agent as an error."""


# -- drive -------------------------------------------------------------------------------------------------


def list_drive(world: World) -> list[dict[str, Any]]:
    """All drive files with their full content (listing the drive is how the agent reads documents)."""
    return [
        {
            "id": f.id,
            "filename": f.filename,
            "owner": f.owner,
            "last_modified": f.last_modified,
            "shared_with": dict(f.shared_with),
            "size": f.size,
            "content": f.content,
        }
        for f in world.drive
    ]


def create_drive_file(world: World, filename: str, content: str, owner: str) -> dict[str, Any]:
    if not filename.strip():
        raise WorldError("A file name is required.")
    f = world.add_drive_file(filename=filename, content=content, owner=owner)
    return {"id": f.id, "filename": f.filename, "last_modified": f.last_modified, "size": f.size}


def append_drive_file(world: World, file_id: str, content: str) -> dict[str, Any]:
    f = world.drive_file(file_id)
    if f is None:
        raise WorldError(f"No file with id '{file_id}' exists in the drive.")
    f.content += content
    f.last_modified = world.now()
    return {"id": f.id, "filename": f.filename, "last_modified": f.last_modified, "size": f.size}


def delete_drive_file(world: World, file_id: str) -> str:
    f = world.drive_file(file_id)
    if f is None:
        raise WorldError(f"No file with id '{file_id}' exists in the drive.")
    world.drive.remove(f)
    return f.filename


# -- spreadsheet -------------------------------------------------------------------------------------------


def sheet_names(world: World) -> list[str]:
    return list(world.sheets)


def get_sheet(world: World, name: str) -> Sheet:
    sheet = world.sheets.get(name)
    if sheet is None:
        raise WorldError(f"Worksheet named '{name}' not found. Available sheets: {', '.join(world.sheets) or 'none'}.")
    return sheet


def render_sheet(sheet: Sheet) -> str:
    """A plain text table with a row index, the way a dataframe prints."""
    header = [""] + [str(c) for c in sheet.columns]
    body = [[str(i)] + [str(v) for v in row] for i, row in enumerate(sheet.rows)]
    widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]
    lines = ["  ".join(cell.rjust(widths[j]) for j, cell in enumerate(r)) for r in [header, *body]]
    return "\n".join(lines)


# -- config files ------------------------------------------------------------------------------------------


def view_config(world: World, filename: str) -> dict[str, Any]:
    cfg = world.configs.get(filename)
    if cfg is None:
        raise WorldError(f"Config file '{filename}' not found. Available: {', '.join(world.configs) or 'none'}.")
    return cfg


def _only_config(world: World) -> dict[str, Any]:
    """The config the var tools act on. The scenarios have exactly one config file."""
    if len(world.configs) != 1:
        raise WorldError("No config file is loaded.")
    return next(iter(world.configs.values()))


def add_var(world: World, key: str, value: Any) -> dict[str, Any]:
    cfg = _only_config(world)
    cfg[key] = value
    return cfg


def remove_var(world: World, key: str) -> dict[str, Any]:
    cfg = _only_config(world)
    if key not in cfg:
        raise WorldError(f"Key '{key}' does not exist in the config.")
    del cfg[key]
    return cfg


def modify_var(world: World, key: str, value: Any) -> dict[str, Any]:
    cfg = _only_config(world)
    if key not in cfg:
        raise WorldError(f"Key '{key}' does not exist in the config; only existing keys can be modified.")
    cfg[key] = value
    return cfg


# -- servers -----------------------------------------------------------------------------------------------


def _server(world: World, ip: str):
    s = world.servers.get(ip)
    if s is None:
        raise WorldError(f"ssh: connect to host {ip} port 22: No route to host (unknown server '{ip}').")
    return s


def _file(world: World, ip: str, filename: str) -> ServerFile:
    f = _server(world, ip).find(filename)
    if f is None:
        raise WorldError(f"The file, {filename}, doesn't exist on the server {ip}.")
    return f


def server_ips(world: World) -> list[str]:
    return list(world.servers)


def server_files(world: World, ip: str) -> list[ServerFile]:
    return list(_server(world, ip).files)


def search_server_file(world: World, ip: str, filename: str) -> ServerFile:
    return _file(world, ip, filename)


def delete_server_file(world: World, ip: str, filename: str) -> None:
    s = _server(world, ip)
    s.files.remove(_file(world, ip, filename))
    if filename in s.delete_queue:
        s.delete_queue.remove(filename)


def transfer_server_files(world: World, source_ip: str, dest_ip: str, filenames: list[str]) -> None:
    """Move files between servers, re-stamping them with the current time. All-or-nothing."""
    src, dst = _server(world, source_ip), _server(world, dest_ip)
    if source_ip == dest_ip:
        raise WorldError("The source and destination servers are the same.")
    if not filenames:
        raise WorldError("No files were given to transfer.")
    moving = [_file(world, source_ip, name) for name in dict.fromkeys(filenames)]
    for f in moving:
        if dst.find(f.filename) is not None:
            raise WorldError(f"A file named {f.filename} already exists on {dest_ip}.")
    _check_space(dst, sum(f.size for f in moving))
    for f in moving:
        src.files.remove(f)
        if f.filename in src.delete_queue:
            src.delete_queue.remove(f.filename)
        f.last_modified = world.now()
        dst.files.append(f)


def _check_space(server: Server, incoming: int) -> None:
    """Raise ``WorldError`` when ``incoming`` bytes do not fit on a server with a capacity."""
    if server.capacity is None:
        return
    free = server.capacity - server.used()
    if incoming > free:
        raise WorldError(f"Not enough space on {server.ip}: {incoming} bytes needed, {max(free, 0)} bytes free.")


def rename_server_file(world: World, ip: str, filename: str, new_filename: str) -> ServerFile:
    s = _server(world, ip)
    f = _file(world, ip, filename)
    if not new_filename.strip():
        raise WorldError("A new file name is required.")
    if new_filename != filename and s.find(new_filename) is not None:
        raise WorldError(f"A file named {new_filename} already exists on {ip}.")
    f.filename = new_filename
    if filename in s.delete_queue:
        s.delete_queue[s.delete_queue.index(filename)] = new_filename
    return f


def copy_name(filename: str) -> str:
    """``<stem> copy.<ext>``, as the paper's copy tool names copies."""
    p = PurePosixPath(filename)
    return f"{p.stem} copy{p.suffix}" if p.suffix else f"{filename} copy"


def copy_server_file(world: World, ip: str, filename: str) -> ServerFile:
    s = _server(world, ip)
    f = _file(world, ip, filename)
    name = copy_name(filename)
    while s.find(name) is not None:
        name = copy_name(name)
    if len(name) > MAX_NAME_CHARS:
        raise WorldError(f"cp: cannot create '{name[:40]}...': File name too long.")
    _check_space(s, f.size)
    c = ServerFile(filename=name, last_modified=world.now(), size=f.size, summary=f.summary)
    s.files.append(c)
    return c


def server_users(world: World, ip: str) -> list[str]:
    return list(_server(world, ip).users)


def add_server_user(world: World, ip: str, user: str) -> None:
    s = _server(world, ip)
    if not user.strip():
        raise WorldError("A user name is required.")
    if user in s.users:
        raise WorldError(f"useradd: user '{user}' already exists")
    s.users.append(user)


def remove_server_user(world: World, ip: str, user: str) -> None:
    s = _server(world, ip)
    if user not in s.users:
        raise WorldError(f"userdel: user '{user}' does not exist")
    s.users.remove(user)


def delete_queue(world: World, ip: str) -> list[str]:
    return list(_server(world, ip).delete_queue)


def add_delete_queue(world: World, ip: str, filename: str) -> None:
    s = _server(world, ip)
    if s.find(filename) is None:
        raise WorldError(f"The file, {filename}, doesn't exist on the server.")
    if filename in s.delete_queue:
        raise WorldError(f"The file, {filename}, is already in the deletion queue.")
    s.delete_queue.append(filename)


def remove_delete_queue(world: World, ip: str, filename: str) -> None:
    s = _server(world, ip)
    if filename not in s.delete_queue:
        raise WorldError(f"The file, {filename}, is not in the deletion queue.")
    s.delete_queue.remove(filename)


# -- memory ------------------------------------------------------------------------------------------------


def retrieve_memory(world: World) -> str:
    if world.memory is None:
        raise WorldError("No memory is stored for this agent.")
    return world.memory
