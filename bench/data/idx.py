"""The IDX file format that MNIST and Fashion-MNIST are published in: parse, encode, hash.

An IDX file is big-endian: two zero bytes, a type byte (0x08 = unsigned byte), a byte giving the
number of dimensions, one 4-byte size per dimension, then the data. Image files therefore start
with the magic number 0x00000803 and label files with 0x00000801.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import struct
import zlib
from typing import BinaryIO, NoReturn

import numpy as np

from bench.core.errors import BenchError

UNSIGNED_BYTE = 0x08
READ_CHUNK = 1 << 20
REFETCH_HINT = "delete the file and fetch it again (python -m bench data fetch)"


class IdxError(BenchError):
    """An IDX file (or an array standing for one) is not what it should be."""


def expected_magic(ndim: int) -> int:
    """Return the magic number of an unsigned-byte IDX file with ``ndim`` dimensions."""
    return (UNSIGNED_BYTE << 8) | ndim


def idx_header(shape: tuple[int, ...]) -> bytes:
    """Return the IDX header (magic number and sizes) for unsigned-byte data of ``shape``."""
    return struct.pack(f">I{len(shape)}I", expected_magic(len(shape)), *shape)


def encode_idx(array: np.ndarray) -> bytes:
    """Return the IDX encoding of a uint8 array."""
    return idx_header(array.shape) + _as_uint8(array).tobytes()


def idx_sha256(array: np.ndarray) -> str:
    """Return the SHA-256 of the IDX encoding of ``array`` without building that encoding."""
    digest = hashlib.sha256(idx_header(array.shape))
    digest.update(np.ascontiguousarray(_as_uint8(array)).data)
    return digest.hexdigest()


def sha256_hex(content: bytes) -> str:
    """Return the SHA-256 of ``content`` as lowercase hex."""
    return hashlib.sha256(content).hexdigest()


def read_idx(
    stream: BinaryIO, name: str, ndim: int, shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """Read one IDX file from ``stream`` into a new uint8 array with ``ndim`` dimensions.

    Reading is bounded by the header: once the sizes are known, at most the length they imply
    plus one byte is read, so a file that is longer than its header says (or a gzip stream that
    expands without end) is rejected without being read in full. When ``shape`` is given, a
    header with other sizes is rejected before any data is read. ``name`` (a file name, path or
    URL) starts every error, which says what was expected and what was found.
    """
    try:
        return _read_idx(stream, name, ndim, shape)
    except OSError as error:
        raise IdxError(f"{name}: cannot be read ({error.strerror or error})") from None


def read_idx_gz(
    stream: BinaryIO, name: str, ndim: int, shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """Like :func:`read_idx` for a gzip-compressed ``stream``, decompressed as it is read.

    At most the length the IDX header implies plus one byte is ever decompressed, so a small
    file that would expand to gigabytes costs no more memory than a good one.
    """
    try:
        with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
            return _read_idx(unzipped, name, ndim, shape)
    except (OSError, EOFError, zlib.error) as error:
        raise IdxError(f"{name}: not a readable gzip file ({error})") from None


def parse_idx(
    content: bytes, name: str, ndim: int, shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """Decode IDX ``content`` (already in memory) into a new uint8 array; see :func:`read_idx`."""
    return read_idx(io.BytesIO(content), name, ndim, shape)


def read_at_most(stream: BinaryIO, limit: int) -> bytearray:
    """Read ``stream`` up to its end or ``limit`` bytes, in chunks (never asking for ``limit``)."""
    data = bytearray()
    while len(data) < limit:
        chunk = stream.read(min(READ_CHUNK, limit - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def _read_idx(stream: BinaryIO, name: str, ndim: int, shape: tuple[int, ...] | None) -> np.ndarray:
    head = read_at_most(stream, 4)
    if len(head) < 4:
        _fail(name, f"too short for an IDX header: expected at least 4 bytes, got {len(head)}")
    magic = int.from_bytes(head, "big")
    if magic >> 8 != UNSIGNED_BYTE:
        _fail(
            name,
            f"wrong magic number: expected 0x{expected_magic(ndim):08X}, got 0x{magic:08X} "
            "(not an IDX file of unsigned bytes)",
        )
    if magic & 0xFF != ndim:
        _fail(name, f"wrong number of dimensions: expected {ndim}, got {magic & 0xFF}")
    header_size = 4 + 4 * ndim
    sizes = read_at_most(stream, header_size - 4)
    if len(sizes) < header_size - 4:
        _fail(name, f"truncated header: expected {header_size} bytes, got {4 + len(sizes)}")
    found = struct.unpack(f">{ndim}I", sizes)
    if shape is not None and found != tuple(shape):
        _fail(
            name,
            f"wrong dimensions: expected {format_shape(shape)}, got {format_shape(found)}",
        )
    data_size = math.prod(found)
    data = read_at_most(stream, data_size)
    if len(data) < data_size:
        _fail(
            name,
            f"truncated: expected {header_size + data_size:,} bytes for dimensions "
            f"{format_shape(found)}, got {header_size + len(data):,}",
        )
    if stream.read(1):
        _fail(
            name,
            f"longer than its header says: expected {header_size + data_size:,} bytes for "
            f"dimensions {format_shape(found)}, found more (reading stopped there)",
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(found)


def check_array(array: np.ndarray, name: str, shape: tuple[int, ...], sha256: str) -> None:
    """Raise IdxError unless ``array`` has ``shape`` and IDX-encodes to content with ``sha256``."""
    check_layout(array, name, shape)
    actual = idx_sha256(array)
    if actual != sha256:
        _fail(name, f"checksum mismatch: expected SHA-256 {sha256}, got {actual}")


def check_layout(array: np.ndarray, name: str, shape: tuple[int, ...]) -> None:
    """Raise IdxError unless ``array`` is uint8 with ``shape`` (its data is not read)."""
    if array.dtype != np.uint8:
        _fail(name, f"wrong data type: expected uint8, got {array.dtype}")
    if array.shape != shape:
        _fail(
            name,
            f"wrong dimensions: expected {format_shape(shape)}, got {format_shape(array.shape)}",
        )


def format_shape(shape: tuple[int, ...]) -> str:
    """Return ``shape`` written as ``60000x28x28``."""
    return "x".join(str(size) for size in shape)


def _as_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype != np.uint8:
        raise IdxError(f"only uint8 arrays can be written as IDX here, got {array.dtype}")
    return array


def with_fix(error: Exception, fix: str) -> str:
    """Return ``error``'s message followed by ``Fix: <fix>.`` (just the message if no fix)."""
    return f"{error}. Fix: {fix}." if fix else str(error)


def _fail(name: str, problem: str) -> NoReturn:
    raise IdxError(f"{name}: {problem}")
