"""Read the sample entries of a local ``.eval`` log (a zip archive) quickly.

The stdlib ``zipfile`` (with Inspect's zstd patch) builds a new zstd decompressor and a file object for every
member, which costs more than decompressing a small sample. Here the archive's central directory comes from
``zipfile`` as usual, each member's compressed bytes are sliced from one memory map, decompressed with one shared
decompressor (zstd, possibly several frames as Inspect writes large members; deflate; stored) and checked
against the CRC-32 recorded in the archive. Members compressed otherwise are read through ``zipfile``.
"""

from __future__ import annotations

import mmap
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import Self

import inspect_ai._util.zipfile  # noqa: F401  (registers zstd with zipfile, as Inspect does)
import zstandard
from inspect_ai.log import EvalLog, read_eval_log

SAMPLES_PREFIX = "samples/"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_LOCAL_SIGNATURE = b"PK\x03\x04"
ZIP_ZSTANDARD: int = zipfile.ZIP_ZSTANDARD  # type: ignore[attr-defined]


def _zstd(dctx: zstandard.ZstdDecompressor, data: bytes) -> bytes:
    out: list[bytes] = []
    while data:
        obj = dctx.decompressobj()
        out.append(obj.decompress(data))
        data = obj.unused_data if obj.eof else b""
    return b"".join(out)


class EvalZip:
    """A local ``.eval`` log opened once for its header and its sample entries (use as a context manager)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = open(path, "rb")  # noqa: SIM115  (closed in close())
        try:
            self.zip = zipfile.ZipFile(self._file)
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()
        self._file.close()

    def header(self) -> EvalLog:
        """The log header as Inspect reads it (``header.json``, or the journal's start record while running)."""
        try:
            from inspect_ai.log._recorders.eval import _read_header
        except ImportError:  # a later Inspect moved it: read the header the public way (opens the file again)
            return read_eval_log(self.path, header_only=True)
        return _read_header(self.zip, self.path)

    def samples(self) -> Iterator[tuple[str, bytes]]:
        """Yield ``(name, json bytes)`` for every ``samples/*.json`` member, the last one of each name (as
        Inspect resolves a re-logged sample). Raises ``zipfile.BadZipFile`` for a damaged member."""
        infos = {i.filename: i for i in self.zip.infolist()}  # later members of a name win
        wanted = [i for n, i in infos.items() if n.startswith(SAMPLES_PREFIX) and n.endswith(".json")]
        if not wanted:
            return
        dctx = zstandard.ZstdDecompressor()
        with mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            for info in wanted:
                if info.compress_type not in (ZIP_ZSTANDARD, zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED) or (
                    info.flag_bits & 0x1
                ):
                    yield info.filename, self.zip.read(info)
                    continue
                head = mm[info.header_offset : info.header_offset + _LOCAL_HEADER.size]
                fields = _LOCAL_HEADER.unpack(head)
                if fields[0] != _LOCAL_SIGNATURE:
                    raise zipfile.BadZipFile(f"bad local header for {info.filename}")
                start = info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11]
                raw = mm[start : start + info.compress_size]
                if info.compress_type == ZIP_ZSTANDARD:
                    data = _zstd(dctx, raw)
                elif info.compress_type == zipfile.ZIP_DEFLATED:
                    data = zlib.decompress(raw, -15)
                else:
                    data = raw
                if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
                    raise zipfile.BadZipFile(f"bad CRC or size for {info.filename}")
                yield info.filename, data
