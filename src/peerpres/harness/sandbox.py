"""The isolated world of one harness run: two real sshd servers and the agent, in a network namespace.

Layout (everything under a size-limited tmpfs at ``/run/peerpres-harness/<id>``, root-only):

- network namespace ``pp-<id>``: only ``lo``, carrying 127.0.0.1 (model endpoint) and 10.0.12.45 / 10.0.12.46
  (the servers). Any other address is unroutable from inside: nothing can leave the namespace.
- each server: ``sshd`` (root, as sshd must be) in a private mount namespace where ``/srv/data`` is its data
  directory and ``/srv/home`` the home of ``maintainer``; ``/tmp``, ``/var/tmp``, ``/dev/shm`` are private
  tmpfs; ``scp``/``du``/``df`` are the tools of ``peerpres.harness.tools``.
- the agent: a private mount and PID namespace; ``/tmp`` is a fresh tmpfs holding ``/tmp/workspace`` and
  ``/tmp/home`` (bound from the run); it runs as the unprivileged ``ppagent`` user with no capabilities,
  ``no_new_privs`` and an environment built from scratch.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..world.state import Server
from . import servers as srv
from .install import AGENT_USER, SERVER_USER, prefix
from .tools import WRAPPED

RUN_BASE = Path("/run/peerpres-harness")
RUN_TMPFS_SIZE = "512m"
SERVER_DATA = "/srv/data"
AGENT_WORKSPACE = "/tmp/workspace"
# Where the agent sees the CLI install prefix (read-only). The host prefix may itself lie under /tmp (a clone
# of the repository there), which the agent's private /tmp would hide.
AGENT_CLI_ROOT = "/mnt/peerpres-cli"
AGENT_HOME = "/tmp/home"
CLONE_NEWNET = 0x40000000


class HarnessError(RuntimeError):
    """The harness environment could not be built or run."""


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, capture_output=True, text=True, check=False, **kw)
    if r.returncode != 0:
        raise HarnessError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
    return r


def socket_in_netns(netns: str, host: str, port: int = 0) -> socket.socket:
    """A listening TCP socket created inside the named network namespace (a socket keeps the namespace it was
    made in, so the caller can serve it from its own thread and namespace)."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, os.strerror(err))
            finally:
                os.close(fd)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
            s.listen(64)
            s.setblocking(False)
            box["sock"] = s
        except BaseException as e:  # noqa: BLE001 - re-raised as HarnessError by the caller
            box["err"] = e

    t = threading.Thread(target=work, name="netns-socket")
    t.start()
    t.join()
    if "err" in box:
        raise HarnessError(f"cannot listen inside netns {netns}: {box['err']}")
    return box["sock"]  # type: ignore[return-value]


@dataclass
class ServerProc:
    ip: str
    dir: Path
    proc: subprocess.Popen | None = None


@dataclass
class HarnessEnv:
    """Build with ``start()``, tear down with ``close()`` (also on failure). One per sample."""

    servers: dict[str, Server]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    root: Path = field(init=False)
    netns: str = field(init=False)
    server_procs: dict[str, ServerProc] = field(default_factory=dict)
    _mounted: bool = False
    _netns_made: bool = False

    def __post_init__(self) -> None:
        self.root = RUN_BASE / self.run_id
        self.netns = f"pp-{self.run_id}"

    # -- paths -----------------------------------------------------------------------------------------------
    @property
    def workspace(self) -> Path:
        return self.root / "agent" / "workspace"

    @property
    def home(self) -> Path:
        return self.root / "agent" / "home"

    @property
    def tools_dir(self) -> Path:
        return self.root / "tools"

    def data_dir(self, ip: str) -> Path:
        return self.root / "servers" / ip / "data"

    def data_dirs(self) -> dict[str, Path]:
        return {ip: self.data_dir(ip) for ip in self.servers}

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self._make_root()
            self._make_tools()
            self._make_keys_and_servers()
            self._make_netns()
            for ip in self.servers:
                self._start_sshd(ip)
            self._wait_servers()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for sp in self.server_procs.values():
            if sp.proc and sp.proc.poll() is None:
                try:
                    os.killpg(sp.proc.pid, signal.SIGTERM)
                    sp.proc.wait(timeout=5)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(sp.proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        if self._netns_made:
            # Kill anything still inside the namespace (it holds the run's mounts alive otherwise).
            r = subprocess.run(["ip", "netns", "pids", self.netns], capture_output=True, text=True, check=False)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, check=False)
            self._netns_made = False
        if self._mounted:
            subprocess.run(["umount", "-l", str(self.root)], capture_output=True, check=False)
            self._mounted = False
        try:
            self.root.rmdir()
        except OSError:
            pass

    # -- building --------------------------------------------------------------------------------------------
    def _make_root(self) -> None:
        RUN_BASE.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root.mkdir(mode=0o700)
        _run(["mount", "-t", "tmpfs", "-o", f"size={RUN_TMPFS_SIZE},mode=0700", "tmpfs", str(self.root)])
        self._mounted = True

    def _make_tools(self) -> None:
        d = self.tools_dir
        d.mkdir(mode=0o755)
        for name, text in WRAPPED.items():
            (d / name).write_text(text)
            os.chmod(d / name, 0o755)
            real = shutil.which(name, path="/usr/bin:/bin")
            if real is None:
                raise HarnessError(f"{name} not found on this machine")
            shutil.copy2(real, d / f"{name}.real")
            os.chmod(d / f"{name}.real", 0o755)

    def _make_keys_and_servers(self) -> None:
        m = pwd.getpwnam(SERVER_USER)
        a = pwd.getpwnam(AGENT_USER)
        keys = self.root / "keys"
        keys.mkdir(mode=0o700)
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "agents@openbrain.com", "-f", str(keys / "id_ed25519")])
        client_pub = (keys / "id_ed25519.pub").read_text()
        host_pubs: dict[str, str] = {}
        for ip, server in self.servers.items():
            d = self.root / "servers" / ip
            d.mkdir(parents=True, mode=0o700)
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")])
            host_pubs[ip] = " ".join((d / "host_key.pub").read_text().split()[:2])
            srv.write_server(server, self.data_dir(ip), m.pw_uid, m.pw_gid)
        known_hosts = "".join(f"{ip} {pub}\n" for ip, pub in host_pubs.items())
        for ip in self.servers:
            d = self.root / "servers" / ip
            home = d / "home"
            (home / ".ssh").mkdir(parents=True)
            (home / ".ssh" / "authorized_keys").write_text(client_pub)
            (home / ".ssh" / "known_hosts").write_text(known_hosts)
            for p in (home, home / ".ssh", home / ".ssh" / "authorized_keys", home / ".ssh" / "known_hosts"):
                os.chown(p, m.pw_uid, m.pw_gid)
            os.chmod(home / ".ssh", 0o700)
            (d / "sshd_config").write_text(self._sshd_config(ip, d))
        # the agent's side: workspace and home, with the key and known_hosts
        self.workspace.mkdir(parents=True)
        ssh = self.home / ".ssh"
        ssh.mkdir(parents=True)
        shutil.copy(keys / "id_ed25519", ssh / "id_ed25519")
        shutil.copy(keys / "id_ed25519.pub", ssh / "id_ed25519.pub")
        (ssh / "known_hosts").write_text(known_hosts)
        for p in [self.root / "agent", self.workspace, self.home, ssh, *ssh.iterdir()]:
            os.chown(p, a.pw_uid, a.pw_gid)
        os.chmod(ssh, 0o700)
        os.chmod(ssh / "id_ed25519", 0o600)

    def _sshd_config(self, ip: str, d: Path) -> str:
        return "\n".join([
            "Port 22", f"ListenAddress {ip}", f"HostKey {d / 'host_key'}", "PidFile none",
            "AuthorizedKeysFile .ssh/authorized_keys", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PermitRootLogin no", f"AllowUsers {SERVER_USER}", "StrictModes no", "UsePAM no",
            "AllowAgentForwarding yes", "AllowTcpForwarding no", "X11Forwarding no", "PermitTunnel no",
            "PrintMotd no", "PrintLastLog no", "SetEnv TZ=UTC", "Subsystem sftp internal-sftp", "LogLevel INFO", "",
        ])

    def _make_netns(self) -> None:
        _run(["ip", "netns", "add", self.netns])
        self._netns_made = True
        _run(["ip", "-n", self.netns, "link", "set", "lo", "up"])
        for ip in self.servers:
            _run(["ip", "-n", self.netns, "addr", "add", f"{ip}/32", "dev", "lo"])

    def _private_mounts(self, tools_at: str) -> list[str]:
        """Shell lines shared by servers and agent: private tmp dirs and the wrapped tools."""
        lines = [
            f"mkdir -p {tools_at}",
            f"mount --bind {shlex.quote(str(self.tools_dir))} {tools_at}",
            "mount -t tmpfs -o mode=1777,size=16m tmpfs /var/tmp",
            "mount -t tmpfs -o mode=1777,size=16m tmpfs /dev/shm",
        ]
        for name in WRAPPED:
            lines.append(f"mount --bind {tools_at}/{name} /usr/bin/{name}")
        return lines

    def _start_sshd(self, ip: str) -> None:
        d = self.root / "servers" / ip
        script = "\n".join([
            "set -e",
            "mount -t tmpfs -o mode=1777,size=64m tmpfs /tmp",
            "mount -t tmpfs -o mode=0755,size=8m tmpfs /srv",
            "mkdir /srv/data /srv/home",
            f"mount --bind {shlex.quote(str(d / 'data'))} /srv/data",
            f"mount --bind {shlex.quote(str(d / 'home'))} /srv/home",
            *self._private_mounts("/srv/.tools"),
            f"exec /usr/sbin/sshd -D -e -f {shlex.quote(str(d / 'sshd_config'))}",
        ])
        log = open(d / "sshd.log", "wb")  # noqa: SIM115 - handed to the sshd process for its lifetime
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        self.server_procs[ip] = ServerProc(ip, d, proc)

    def _wait_servers(self, timeout: float = 15.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        pending = set(self.servers)
        while pending and time.monotonic() < deadline:
            for ip in list(pending):
                sp = self.server_procs[ip]
                if sp.proc and sp.proc.poll() is not None:
                    raise HarnessError(f"sshd for {ip} exited: {(sp.dir / 'sshd.log').read_text()[-2000:]}")
                r = subprocess.run(
                    ["ip", "netns", "exec", self.netns, "bash", "-c", f"exec 3<>/dev/tcp/{ip}/22"], capture_output=True, check=False
                )
                if r.returncode == 0:
                    pending.discard(ip)
            if pending:
                time.sleep(0.2)
        if pending:
            raise HarnessError(f"sshd not listening on {sorted(pending)} after {timeout}s")

    # -- the agent -------------------------------------------------------------------------------------------
    def agent_argv(self, argv: list[str], env: dict[str, str]) -> list[str]:
        """The command that runs ``argv`` as the isolated agent (see module docstring)."""
        a = pwd.getpwnam(AGENT_USER)
        env_args = [f"{k}={v}" for k, v in env.items()]
        inner = "\n".join([
            "set -e",
            "mount -t tmpfs -o mode=0755,size=1m tmpfs /mnt",
            f"mkdir {AGENT_CLI_ROOT}",
            f"mount --bind {shlex.quote(str(prefix()))} {AGENT_CLI_ROOT}",
            f"mount -o remount,bind,ro {AGENT_CLI_ROOT}",
            "mount -t tmpfs -o mode=1777,size=64m tmpfs /tmp",
            f"mkdir {AGENT_WORKSPACE} {AGENT_HOME}",
            f"mount --bind {shlex.quote(str(self.workspace))} {AGENT_WORKSPACE}",
            f"mount --bind {shlex.quote(str(self.home))} {AGENT_HOME}",
            *self._private_mounts("/tmp/.tools"),
            f"cd {AGENT_WORKSPACE}",
            "exec setpriv --reuid={u} --regid={g} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all "
            "-- env -i {env} {argv}".format(
                u=a.pw_uid, g=a.pw_gid, env=" ".join(shlex.quote(e) for e in env_args),
                argv=" ".join(shlex.quote(x) for x in argv),
            ),
        ])
        return [
            "ip", "netns", "exec", self.netns, "unshare", "--mount", "--propagation", "private", "--pid", "--fork",
            "--mount-proc", "--kill-child", "--", "/bin/sh", "-c", inner,
        ]

    async def run_agent(self, argv: list[str], env: dict[str, str], timeout: float) -> tuple[int | None, str, str, bool]:
        """Run the agent; returns (returncode, stdout, stderr, timed_out). Kills the whole tree on timeout."""
        proc = await asyncio.create_subprocess_exec(
            *self.agent_argv(argv, env), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL, start_new_session=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        timed_out = False
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = await proc.communicate()
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), timed_out
