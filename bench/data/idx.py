"""The IDX file format that MNIST and Fashion-MNIST are published in: parse, encode, hash.

An IDX file is big-endian: two zero bytes, a type byte (0x08 = unsigned byte), a byte giving the
number of dimensions, one 4-byte size per dimension, then the data. Image files therefore start
with the magic number 0x00000803 and label files with 0x00000801.
"""

from __future__ import annotations

import hashlib
import math
import struct
from typing import NoReturn

import numpy as np

from bench.errors import BenchError

UNSIGNED_BYTE = 0x08
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


def parse_idx(content: bytes, name: str, ndim: int) -> np.ndarray:
    """Decode IDX ``content`` into a new uint8 array with ``ndim`` dimensions.

    ``name`` (a file name or path) goes into every error, which says what was expected, what was
    found, and how to fix it.
    """
    if len(content) < 4:
        _fail(name, f"too short for an IDX header: expected at least 4 bytes, got {len(content)}")
    magic = int.from_bytes(content[:4], "big")
    if magic >> 8 != UNSIGNED_BYTE:
        _fail(
            name,
            f"wrong magic number: expected 0x{expected_magic(ndim):08X}, got 0x{magic:08X} "
            "(not an IDX file of unsigned bytes)",
        )
    if magic & 0xFF != ndim:
        _fail(name, f"wrong number of dimensions: expected {ndim}, got {magic & 0xFF}")
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        _fail(name, f"truncated header: expected {header_size} bytes, got {len(content)}")
    shape = struct.unpack(f">{ndim}I", content[4:header_size])
    expected_size = header_size + math.prod(shape)
    if len(content) != expected_size:
        state = "truncated" if len(content) < expected_size else "longer than its header says"
        _fail(
            name,
            f"{state}: expected {expected_size:,} bytes for dimensions {format_shape(shape)}, "
            f"got {len(content):,}",
        )
    data = np.frombuffer(content, dtype=np.uint8, offset=header_size)
    return data.reshape(shape).copy()


def check_array(array: np.ndarray, name: str, shape: tuple[int, ...], sha256: str) -> None:
    """Raise IdxError unless ``array`` has ``shape`` and IDX-encodes to content with ``sha256``."""
    if array.dtype != np.uint8:
        _fail(name, f"wrong data type: expected uint8, got {array.dtype}")
    if array.shape != shape:
        _fail(
            name,
            f"wrong dimensions: expected {format_shape(shape)}, got {format_shape(array.shape)}",
        )
    actual = idx_sha256(array)
    if actual != sha256:
        _fail(name, f"checksum mismatch: expected SHA-256 {sha256}, got {actual}")


def format_shape(shape: tuple[int, ...]) -> str:
    """Return ``shape`` written as ``60000x28x28``."""
    return "x".join(str(size) for size in shape)


def _as_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype != np.uint8:
        raise IdxError(f"only uint8 arrays can be written as IDX here, got {array.dtype}")
    return array


def _fail(name: str, problem: str) -> NoReturn:
    raise IdxError(f"{name}: {problem}. Fix: {REFETCH_HINT}.")
