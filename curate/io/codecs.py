"""Compression by file suffix: plain, gzip (`.gz`) and Zstandard (`.zst`).

Readers turn a damaged stream (truncated, corrupt, or not compressed at all) into
`StreamDamage`, so the line reader can name the file and the last good line. Writers
compress one block at a time into independent gzip members or zstd frames: a file is
then a concatenation of blocks, which any gzip/zstd reader reads as one stream, and parts
written by different workers can be joined byte for byte.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO

# Measured on the scale benchmark's text (CPU time, 4 MB blocks): gzip -6 14 MB/s at 2.62x,
# gzip -3 32 MB/s at 2.40x; zstd -1 133 MB/s at 2.46x, zstd -3 64 MB/s at 3.36x. Writing is
# a large share of a curation step's time, so the fast levels win.
GZIP_LEVEL = 3
ZSTD_LEVEL = 1


class StreamDamage(Exception):
    """A compressed stream that cannot be read past some point."""


def compression_of(path: str | Path) -> str | None:
    name = str(path).lower()
    if name.endswith(".gz"):
        return "gzip"
    if name.endswith(".zst"):
        return "zstd"
    return None


def open_binary(path: str | Path) -> BinaryIO:
    """A buffered binary reader of the decompressed bytes of `path`."""
    kind = compression_of(path)
    raw = open(path, "rb")
    if kind == "gzip":
        return _Guarded(_GzipStream(raw), raw, "gzip")
    if kind == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return _Guarded(io.BufferedReader(reader, 1 << 20), raw, "zstd")
    return raw


class _GzipStream(io.RawIOBase):
    """gzip members decompressed with zlib, a chunk at a time. Unlike `gzip.GzipFile`, bytes
    decompressed before a truncation or corruption are returned first, so every complete line
    before the damage is read; the damage is raised on the next read."""

    _CHUNK = 1 << 16

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._damage: Exception | None = None
        self._started = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        while not self._pending:
            if self._damage is not None:
                raise self._damage
            compressed = self._raw.read(self._CHUNK)
            if not compressed:
                if self._inflate.eof or not self._started:
                    return b""  # a clean end (or an empty file)
                self._damage = EOFError("truncated")
                continue
            self._started = True
            try:
                self._pending = self._inflate.decompress(compressed)
                while self._inflate.eof and self._inflate.unused_data:  # the next member
                    rest = self._inflate.unused_data
                    self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    self._pending += self._inflate.decompress(rest)
            except zlib.error as exc:
                message = str(exc)
                self._damage = gzip.BadGzipFile(message) if "header" in message else exc
                self._pending = b""
        size = len(self._pending) if size is None or size < 0 else size
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


class _Guarded(io.RawIOBase):
    """Wraps a decompressing reader so every decoding failure becomes `StreamDamage`."""

    def __init__(self, inner: BinaryIO, raw: BinaryIO, kind: str) -> None:
        self._inner, self._raw, self._kind = inner, raw, kind
        self._buffer = io.BufferedReader(self, 1 << 20)  # type: ignore[arg-type]

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(target))
        except EOFError:
            raise StreamDamage(f"truncated {self._kind} stream (it ends before its end marker)") \
                from None
        except gzip.BadGzipFile as exc:
            raise StreamDamage(f"not a valid gzip stream ({exc})") from None
        except (zlib.error, OSError) as exc:
            raise StreamDamage(f"corrupt {self._kind} stream ({exc})") from None
        except Exception as exc:  # zstandard.ZstdError
            if type(exc).__name__ == "ZstdError":
                raise StreamDamage(f"corrupt zstd stream ({exc})") from None
            raise
        target[:len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        # RawIOBase.readall calls self.read, which is the buffer's, which calls readall:
        # a reentrant read (a whole .json.gz read at once raised RuntimeError). Read raw here.
        chunks, chunk = [], bytearray(1 << 20)
        while count := self.readinto(chunk):
            chunks.append(bytes(chunk[:count]))
        return b"".join(chunks)

    def __iter__(self):  # type: ignore[override]
        return iter(self._buffer)

    def readline(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        return self._buffer.readline(size if size is not None else -1)

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        return self._buffer.read(size if size is not None else -1)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._raw.close()
            super().close()


def compress_block(data: bytes, kind: str | None) -> bytes:
    """`data` as one self-contained gzip member or zstd frame (or as is)."""
    if kind == "gzip":
        # No file name and mtime 0 in the header: output is byte-identical across runs.
        return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
    return data
