"""The isolated world of one harness run: two real sshd servers and the agent, each in a bubblewrap sandbox.

Layout on the host (under a size-limited tmpfs at ``/run/peerpres-harness/<id>``; the base and the run
directory are ``0711`` root: nobody can list them, the agent user can only reach its own ``agent/`` folder):

- network namespace ``pp-<id>``: only ``lo``, carrying 127.0.0.1 (model endpoint) and 10.0.12.45 / 10.0.12.46
  (the servers). Any other address is unroutable from inside: nothing can leave the namespace, and the host's
  loopback services are not reachable (another namespace's loopback).
- each server: a real ``sshd`` in its own bwrap sandbox (``bwrap.server_argv``) inside that namespace:
  ``/srv/data`` is its data directory, ``/srv/home`` the home of ``maintainer``; ``scp``/``du``/``df`` are the
  tools of ``peerpres.harness.tools``.
- the agent: the CLI in its own bwrap sandbox (``bwrap.agent_argv``) inside that namespace, as the
  unprivileged ``ppagent`` user: ``/tmp/workspace`` and ``/tmp/home`` are bound from the run, the CLI install
  is read-only at ``/mnt/peerpres-cli``.

Next to the run directory, ``<id>.owner`` names the process that made it (pid and start time):
``sweep_stale`` removes namespaces and mounts left by a run whose owner died without cleaning up (SIGKILL).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..world.state import Server
from . import bwrap, seccomp
from . import servers as srv
from .install import AGENT_USER, SERVER_USER, prefix
from .tools import WRAPPED

RUN_BASE = Path("/run/peerpres-harness")
RUN_TMPFS_SIZE = "512m"
NETNS_DIR = Path("/run/netns")
SERVER_TOOLS = "/srv/.tools"
AGENT_TOOLS = "/tmp/.tools"
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
            fd = os.open(str(NETNS_DIR / netns), os.O_RDONLY)
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


def _proc_start(pid: int) -> str | None:
    """The start time of ``pid`` (clock ticks since boot; field 22 of /proc/pid/stat), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _owner_alive(owner: str) -> bool:
    try:
        pid_s, start = owner.split()
        return _proc_start(int(pid_s)) == start
    except ValueError:
        return False


def _remove_run(run_id: str, root: Path) -> None:
    netns = f"pp-{run_id}"
    if (NETNS_DIR / netns).exists():
        r = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, check=False)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
    if os.path.ismount(root):
        subprocess.run(["umount", "-l", str(root)], capture_output=True, check=False)
    try:
        root.rmdir()
    except OSError:
        pass
    if not root.exists():
        Path(f"{root}.owner").unlink(missing_ok=True)


def sweep_stale() -> list[str]:
    """Remove the namespaces and mounts of runs whose owner process is gone (killed before ``close``).
    Returns the run ids removed. Runs of live processes (other samples, other workers) are left alone, and so
    is anything without an owner file (not ours)."""
    removed: list[str] = []
    if not RUN_BASE.is_dir():
        return removed
    for owner_file in RUN_BASE.glob("*.owner"):
        try:
            owner = owner_file.read_text()
        except OSError:
            continue
        if _owner_alive(owner):
            continue
        run_id = owner_file.name.removesuffix(".owner")
        _remove_run(run_id, RUN_BASE / run_id)
        removed.append(run_id)
    return removed


@dataclass
class ServerProc:
    ip: str
    dir: Path
    proc: subprocess.Popen | None = None


@dataclass
class HarnessEnv:
    """Build with ``start()`` (or ``prepare()``, ``launch_servers()``, ``wait_servers()``), tear down with
    ``close()`` (also on failure). One per sample.

    ``launch_servers`` starts the bwrap sandboxes, which die with the thread that started them
    (``--die-with-parent`` is PR_SET_PDEATHSIG): call it from a thread that outlives the run (the event loop's),
    not from a short-lived worker thread."""

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

    @property
    def accounts_dir(self) -> Path:
        return self.root / "etc"

    def data_dir(self, ip: str) -> Path:
        return self.root / "servers" / ip / "data"

    def data_dirs(self) -> dict[str, Path]:
        return {ip: self.data_dir(ip) for ip in self.servers}

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.prepare()
        try:
            self.launch_servers()
            self.wait_servers()
        except BaseException:
            self.close()
            raise

    def prepare(self) -> None:
        """Everything but the server processes: run directory, tools, keys, server files, network namespace."""
        try:
            sweep_stale()
            self._make_root()
            self._make_tools()
            bwrap.write_accounts(self.accounts_dir)
            self._make_keys_and_servers()
            self._make_netns()
        except BaseException:
            self.close()
            raise

    def launch_servers(self) -> None:
        try:
            for ip in self.servers:
                self._start_sshd(ip)
        except BaseException:
            self.close()
            raise

    def wait_servers(self, timeout: float = 15.0) -> None:
        try:
            self._wait_servers(timeout)
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
                        sp.proc.wait(timeout=5)
                    except (ProcessLookupError, subprocess.TimeoutExpired):
                        pass
        if self._netns_made or self._mounted:
            # Kills anything still inside the namespace (it holds the run's mounts alive otherwise).
            _remove_run(self.run_id, self.root)
            self._netns_made = False
            self._mounted = False

    # -- building --------------------------------------------------------------------------------------------
    def _make_root(self) -> None:
        RUN_BASE.mkdir(mode=0o711, parents=True, exist_ok=True)
        os.chmod(RUN_BASE, 0o711)
        me = os.getpid()
        # the owner file comes first, so a concurrent sweep_stale never mistakes a run being built for a stale one
        Path(f"{self.root}.owner").write_text(f"{me} {_proc_start(me)}")
        self._mounted = True  # from here on close() cleans up (also a half-made run)
        self.root.mkdir(mode=0o711)
        _run(["mount", "-t", "tmpfs", "-o", f"size={RUN_TMPFS_SIZE},mode=0711,nosuid,nodev", "tmpfs", str(self.root)])

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
        (self.root / "servers").mkdir(mode=0o700)
        for ip, server in self.servers.items():
            d = self.root / "servers" / ip
            d.mkdir(mode=0o700)
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
            (d / "sshd_config").write_text(self._sshd_config(ip))
        # the agent's side: workspace and home, with the key and known_hosts (only this folder is reachable
        # by the agent user on the host: the run directory is 0711)
        (self.root / "agent").mkdir(mode=0o700)
        self.workspace.mkdir()
        ssh = self.home / ".ssh"
        ssh.mkdir(parents=True)
        shutil.copy(keys / "id_ed25519", ssh / "id_ed25519")
        shutil.copy(keys / "id_ed25519.pub", ssh / "id_ed25519.pub")
        (ssh / "known_hosts").write_text(known_hosts)
        for p in [self.root / "agent", self.workspace, self.home, ssh, *ssh.iterdir()]:
            os.chown(p, a.pw_uid, a.pw_gid)
        os.chmod(ssh, 0o700)
        os.chmod(ssh / "id_ed25519", 0o600)

    def _sshd_config(self, ip: str) -> str:
        return "\n".join([
            "Port 22", f"ListenAddress {ip}", "HostKey /etc/ssh/ssh_host_ed25519_key", "PidFile none",
            "AuthorizedKeysFile .ssh/authorized_keys", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PermitRootLogin no", f"AllowUsers {SERVER_USER}", "StrictModes no", "UsePAM no",
            "AllowAgentForwarding yes", "AllowTcpForwarding no", "AllowStreamLocalForwarding no", "X11Forwarding no",
            "PermitTunnel no", "PermitUserEnvironment no", "PrintMotd no", "PrintLastLog no", "SetEnv TZ=UTC",
            "Subsystem sftp internal-sftp", "LogLevel INFO", "",
        ])

    def _make_netns(self) -> None:
        _run(["ip", "netns", "add", self.netns])
        self._netns_made = True
        _run(["ip", "-n", self.netns, "link", "set", "lo", "up"])
        for ip in self.servers:
            _run(["ip", "-n", self.netns, "addr", "add", f"{ip}/32", "dev", "lo"])

    def _in_netns(self) -> list[str]:
        return ["nsenter", f"--net={NETNS_DIR / self.netns}", "--"]

    def server_argv(self, ip: str, seccomp_fd: int | None = None) -> list[str]:
        d = self.root / "servers" / ip
        return [*self._in_netns(), *bwrap.server_argv(
            hostname="server-" + ip.replace(".", "-"), accounts=self.accounts_dir, data_host=d / "data",
            home_host=d / "home", host_key=d / "host_key", sshd_config=d / "sshd_config",
            tools_host=self.tools_dir, tools_at=SERVER_TOOLS, wrapped=list(WRAPPED), seccomp_fd=seccomp_fd,
        )]

    def _start_sshd(self, ip: str) -> None:
        d = self.root / "servers" / ip
        try:
            filter_fd = seccomp.no_userns_filter()
        except OSError as e:
            raise HarnessError(f"cannot build the servers' seccomp filter: {e}") from e
        argv = self.server_argv(ip, filter_fd)
        k = argv.index(bwrap.BWRAP)
        short, fd = bwrap.args_fd(argv[k:])
        log = open(d / "sshd.log", "wb")  # noqa: SIM115 - handed to the sshd process for its lifetime
        try:
            proc = subprocess.Popen(
                [*argv[:k], *short], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, pass_fds=(fd, filter_fd),
            )
        finally:
            log.close()
            os.close(fd)
            os.close(filter_fd)
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
                    [*self._in_netns(), "bash", "-c", f"exec 3<>/dev/tcp/{ip}/22"], capture_output=True, check=False
                )
                if r.returncode == 0:
                    pending.discard(ip)
            if pending:
                time.sleep(0.2)
        if pending:
            raise HarnessError(f"sshd not listening on {sorted(pending)} after {timeout}s")

    # -- the agent -------------------------------------------------------------------------------------------
    def agent_argv(self, argv: list[str]) -> list[str]:
        """The command that runs ``argv`` as the isolated agent (see module docstring): root joins the run's
        network namespace, drops to the agent user (no capabilities, no groups, ``no_new_privs``), and bwrap
        builds the sandbox. The agent's environment is the process environment given to this command."""
        a = pwd.getpwnam(AGENT_USER)
        return [
            *self._in_netns(),
            "setpriv", f"--reuid={a.pw_uid}", f"--regid={a.pw_gid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", "--",
            *bwrap.agent_argv(
                hostname="workstation", accounts=self.accounts_dir, cli_root_host=prefix(), cli_root=AGENT_CLI_ROOT,
                workspace_host=self.workspace, workspace=AGENT_WORKSPACE, home_host=self.home, home=AGENT_HOME,
                tools_host=self.tools_dir, tools_at=AGENT_TOOLS, wrapped=list(WRAPPED), argv=argv,
            ),
        ]

    async def run_agent(self, argv: list[str], env: dict[str, str], timeout: float) -> tuple[int | None, str, str, bool]:
        """Run the agent with exactly the environment ``env`` (PATH must name /usr/bin); returns (returncode,
        stdout, stderr, timed_out). Kills the whole tree on timeout."""
        full = self.agent_argv(argv)
        k = full.index(bwrap.BWRAP)
        short, fd = bwrap.args_fd(full[k:])
        try:
            proc = await asyncio.create_subprocess_exec(
                *full[:k], *short, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                stdin=asyncio.subprocess.DEVNULL, start_new_session=True, env=dict(env), pass_fds=(fd,),
            )
        finally:
            os.close(fd)
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
