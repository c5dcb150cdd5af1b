"""A seccomp filter (built with libseccomp) that forbids creating user namespaces, for the server sandboxes.

The agent's sandbox has bwrap's ``--disable-userns``, which needs a user namespace of its own; the servers'
sandboxes cannot have one (sshd switches between real users), so a ``maintainer`` session could otherwise
make a user namespace and hold capabilities inside it (nothing of the host is reachable that way, but it is
kernel attack surface). The filter answers EPERM to ``unshare`` and ``clone`` with ``CLONE_NEWUSER`` and
ENOSYS to ``clone3`` (whose flags a filter cannot read; glibc then falls back to ``clone``). Everything else
is allowed. libseccomp (Debian ``libseccomp2``, present on every Debian system) compiles the rules for the
machine's own architecture; other architectures' system calls are refused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

CLONE_NEWUSER = 0x10000000
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_MASKED_EQ = 7


def _act_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp")
    if name is None:
        raise OSError("libseccomp not found (Debian package libseccomp2)")
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def no_userns_filter() -> int:
    """A memfd holding the compiled filter (BPF), positioned at 0, for ``bwrap --seccomp FD``. The caller
    passes it to bwrap (``pass_fds``) and closes it. Raises OSError if libseccomp is missing or fails."""
    lib = _lib()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError("seccomp_init failed")
    try:
        newuser = (_ArgCmp * 1)(_ArgCmp(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
        for name, action, cmp in (("unshare", _act_errno(errno.EPERM), newuser),
                                  ("clone", _act_errno(errno.EPERM), newuser),
                                  ("clone3", _act_errno(errno.ENOSYS), None)):
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                continue  # not a system call on this architecture
            rc = lib.seccomp_rule_add_array(ctx, action, nr, 1 if cmp is not None else 0, cmp)
            if rc != 0:
                raise OSError(-rc, f"seccomp_rule_add({name}) failed: {os.strerror(-rc)}")
        fd = os.memfd_create("seccomp-bpf", 0)
        rc = lib.seccomp_export_bpf(ctx, fd)
        if rc != 0:
            os.close(fd)
            raise OSError(-rc, f"seccomp_export_bpf failed: {os.strerror(-rc)}")
        os.lseek(fd, 0, os.SEEK_SET)
        return fd
    finally:
        lib.seccomp_release(ctx)
