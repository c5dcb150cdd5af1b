"""bubblewrap (``bwrap``) command lines for the two kinds of sandbox of a harness run.

Both kinds get their own PID, mount, IPC, UTS (and, where the kernel allows, cgroup) namespaces, join the
run's network namespace (made by ``sandbox.HarnessEnv``), die with the process that started them
(``--die-with-parent``), start a new terminal session, have ``no_new_privs`` set (bwrap always sets it) and
see an allow-listed filesystem built on an empty root:

- ``/usr`` read-only (the system's programs and libraries; ``/bin``, ``/lib``, ``/lib64``, ``/sbin`` are the
  merged-``/usr`` symlinks) with ``/usr/local`` hidden behind an empty tmpfs (site-local tools are not
  system libraries);
- ``/etc``: only the files in ``ETC_ALLOW`` (read-only), plus ``passwd``/``group``/``hosts`` generated for
  the run (root, sshd, maintainer, ppagent, nobody; localhost: no host accounts, names or ``shadow``);
- a fresh ``/proc`` (this sandbox's processes only), a minimal ``/dev``;
- private, size-limited tmpfs on ``/tmp``, ``/var/tmp``, ``/run``, ``/dev/shm``;
- the root is remounted read-only at the end; every bind mount is ``nosuid``/``nodev``.

The agent sandbox (``agent_argv``) is started by the unprivileged agent user (``setpriv`` drops root first:
uid/gid ``ppagent``, no supplementary groups, empty capability bounding set, ``no_new_privs``); bwrap then
makes a user namespace mapping only that uid, and ``--disable-userns`` forbids nested user namespaces. It
sees the CLI install read-only, its workspace and home read-write, nothing else of the host.

The server sandbox (``server_argv``) is started by root, without a user namespace (sshd must switch to
``maintainer`` for each session). All capabilities are dropped except those sshd needs (``SSHD_CAPS``), and
``setpriv`` shrinks the bounding set to the same list before sshd starts, so a session (uid ``maintainer``,
``no_new_privs`` inherited) holds no capability and cannot regain one; a seccomp filter
(``seccomp.no_userns_filter``) forbids creating user namespaces. It sees its own data directory
read-write (the only host path it can change besides its ``maintainer`` home in the run), its host key and
config read-only, and nothing of other servers or samples.
"""

from __future__ import annotations

import glob
import os
import pwd
from pathlib import Path

BWRAP = "/usr/bin/bwrap"

# /etc entries the sandboxes see (read-only), when present on the host. No host accounts, keys or configs
# of services: name service, dynamic linker, time zone, TLS roots, ssh client config, shell start-up files,
# the alternatives symlinks (e.g. awk), Python's Debian config.
ETC_ALLOW = (
    "nsswitch.conf", "host.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone",
    "ssl", "ca-certificates", "ca-certificates.conf", "ssh/ssh_config", "ssh/ssh_config.d", "ssh/moduli",
    "alternatives", "bash.bashrc", "profile", "inputrc", "os-release", "debian_version", "shells", "services",
    "protocols", "gai.conf", "mime.types", "terminfo", "magic", "magic.mime", "environment", "login.defs",
    "python3", "python3.*",
)
TMPFS_SIZES = {"/tmp": 64 << 20, "/var/tmp": 16 << 20, "/run": 8 << 20, "/dev/shm": 16 << 20}
# What sshd needs as root inside its sandbox: switch users (setuid/setgid), chroot its privilege-separated
# child into /run/sshd, hand a session its pty (chown/fowner), signal session processes (kill), read a
# user's authorized_keys (dac_read_search). Nothing else (no sys_admin, net_admin, ptrace, mknod, ...).
SSHD_CAPS = ("setuid", "setgid", "sys_chroot", "chown", "fowner", "kill", "dac_read_search", "net_bind_service")


def _etc_entries() -> list[str]:
    out: list[str] = []
    for pattern in ETC_ALLOW:
        for p in sorted(glob.glob(f"/etc/{pattern}")):
            if os.path.exists(p):
                out.append(p)
    return out


def args_fd(argv: list[str]) -> tuple[list[str], int]:
    """``argv`` (a bwrap command) as ``[bwrap, "--args", FD, "--", COMMAND...]`` plus a memfd holding the
    options, NUL-separated: the sandbox's PID 1 (bwrap) then shows no host paths in its command line. The
    caller passes the fd to the child (``pass_fds``) and closes it after the spawn."""
    assert argv[0] == BWRAP
    k = argv.index("--")
    fd = os.memfd_create("bwrap-args", 0)
    os.write(fd, b"".join(a.encode() + b"\0" for a in argv[1:k]))
    os.lseek(fd, 0, os.SEEK_SET)
    return [BWRAP, "--args", str(fd), *argv[k:]], fd


def write_accounts(etc_dir: Path) -> None:
    """``passwd`` and ``group`` for the sandboxes (root, sshd, maintainer, ppagent, nobody, with their host
    ids) and a ``hosts`` naming only localhost (the host's own names and addresses stay out)."""
    from .install import AGENT_USER, SERVER_USER

    etc_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    users = ["root:x:0:0:root:/root:/bin/bash"]
    groups = ["root:x:0:"]
    for name, shell, passwd_field in (("sshd", "/usr/sbin/nologin", "x"), (SERVER_USER, "/bin/bash", "*"),
                                      (AGENT_USER, "/bin/bash", "x")):
        try:
            p = pwd.getpwnam(name)
        except KeyError:
            continue
        users.append(f"{name}:{passwd_field}:{p.pw_uid}:{p.pw_gid}::{p.pw_dir}:{shell}")
        if name != "sshd":
            groups.append(f"{name}:x:{p.pw_gid}:")
    users.append("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin")
    groups.append("nogroup:x:65534:")
    hosts = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
    for fname, lines in (("passwd", users), ("group", groups), ("hosts", hosts)):
        (etc_dir / fname).write_text("\n".join(lines) + "\n")
        os.chmod(etc_dir / fname, 0o644)


def _base(hostname: str, accounts: Path) -> list[str]:
    args = [
        "--die-with-parent", "--new-session", "--perms", "0755", "--dir", "/etc", "--perms", "0755", "--dir", "/etc/ssh",
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", hostname,
        "--ro-bind", "/usr", "/usr", "--tmpfs", "/usr/local",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/sbin", "/sbin",
    ]
    if os.path.isdir("/usr/lib64"):
        args += ["--symlink", "usr/lib64", "/lib64"]
    for p in _etc_entries():
        args += ["--ro-bind", p, p]
    for fname in ("passwd", "group", "hosts"):
        args += ["--ro-bind", str(accounts / fname), f"/etc/{fname}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for d, size in TMPFS_SIZES.items():
        args += ["--perms", "1777" if d != "/run" else "0755", "--size", str(size), "--tmpfs", d]
    return args


def agent_argv(*, hostname: str, accounts: Path, cli_root_host: Path, cli_root: str, workspace_host: Path,
               workspace: str, home_host: Path, home: str, tools_host: Path, tools_at: str, wrapped: list[str],
               argv: list[str]) -> list[str]:
    """The bwrap command running ``argv`` as the agent; the caller has dropped to the agent user and passes
    the agent's whole environment (bwrap hands it on; keys stay out of command lines)."""
    args = [
        BWRAP, "--unshare-user", "--disable-userns", *_base(hostname, accounts),
        "--ro-bind", str(cli_root_host), cli_root,
        "--bind", str(workspace_host), workspace, "--bind", str(home_host), home,
        "--ro-bind", str(tools_host), tools_at,
    ]
    for name in wrapped:
        args += ["--ro-bind", f"{tools_host}/{name}", f"/usr/bin/{name}"]
    args += ["--remount-ro", "/", "--chdir", workspace]
    return [*args, "--", *argv]


def server_argv(*, hostname: str, accounts: Path, data_host: Path, home_host: Path, host_key: Path,
                sshd_config: Path, tools_host: Path, tools_at: str, wrapped: list[str],
                seccomp_fd: int | None = None) -> list[str]:
    """The bwrap command running one real sshd (as root) for one server; see module docstring.
    ``seccomp_fd``: a compiled filter for ``--seccomp`` (``seccomp.no_userns_filter``)."""
    caps = ",".join(f"+{c}" for c in SSHD_CAPS)
    args = [BWRAP, *_base(hostname, accounts), "--cap-drop", "ALL"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    for c in (*SSHD_CAPS, "setpcap"):
        args += ["--cap-add", f"CAP_{c.upper()}"]
    args += [
        "--perms", "0755", "--dir", "/srv", "--bind", str(data_host), "/srv/data", "--bind", str(home_host), "/srv/home",
        "--ro-bind", str(tools_host), tools_at,
        "--ro-bind", str(host_key), "/etc/ssh/ssh_host_ed25519_key",
        "--ro-bind", str(sshd_config), "/etc/ssh/sshd_config",
        "--perms", "0755", "--dir", "/run/sshd",
    ]
    for name in wrapped:
        args += ["--ro-bind", f"{tools_host}/{name}", f"/usr/bin/{name}"]
    args += ["--remount-ro", "/", "--chdir", "/", "--clearenv", "--setenv", "PATH", "/usr/sbin:/usr/bin:/sbin:/bin",
             "--setenv", "TZ", "UTC"]
    return [*args, "--", "/usr/bin/setpriv", f"--bounding-set=-all,{caps}", "--inh-caps=-all",
            "--", "/usr/sbin/sshd", "-D", "-e", "-f", "/etc/ssh/sshd_config"]
