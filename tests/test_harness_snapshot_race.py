"""The servers' snapshot reads only regular files, checked on the opened descriptor (issue 9, hostile review).

The snapshot runs as root while the servers' sandboxes still live, so a ``maintainer`` session's background
process (``setsid ... &``) can swap a file the snapshot already listed for a symlink to a host path (root
would stat and read the host file into the record) or a FIFO (root's ``open`` would block the sample
forever). ``read_regular`` is where the snapshot opens each file; the swapped objects are handed to it
directly, which is what the snapshot meets when the swap wins the race. No root needed.
"""

from __future__ import annotations

import os
import threading

import pytest

from peerpres.harness.servers import HEADER_SIZE, read_regular

pytestmark = [pytest.mark.harness]


def _with_timeout(fn, seconds: float = 5.0):
    box: dict = {}
    t = threading.Thread(target=lambda: box.setdefault("r", fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "the snapshot blocked"
    return box["r"]


def test_fifo_is_skipped_without_blocking(tmp_path):
    fifo = tmp_path / "weights.safetensors"
    os.mkfifo(fifo)
    assert _with_timeout(lambda: read_regular(fifo)) is None


def test_symlink_to_a_host_file_is_not_followed(tmp_path):
    host = tmp_path / "host-secret"
    host.write_bytes(b"host secret " * 1000)
    link = tmp_path / "data-file"
    link.symlink_to(host)
    assert read_regular(link) is None
    # a symlinked directory and a dangling link are skipped too
    (tmp_path / "dir-link").symlink_to(tmp_path)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert read_regular(tmp_path / "dir-link") is None and read_regular(tmp_path / "dangling") is None
    assert read_regular(tmp_path / "gone") is None


def test_regular_file_is_read(tmp_path):
    f = tmp_path / "a.bin"
    with open(f, "wb") as fh:
        fh.write(b"x" * 10)
        fh.truncate(10_000)
    st, head = read_regular(f)
    assert st.st_size == 10_000 and head == b"x" * 10 + b"\0" * (HEADER_SIZE - 10)
