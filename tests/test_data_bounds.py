"""Hostile IDX input: gzip bombs, files longer than their header, and arbitrary bytes.

Reading is bounded by the IDX header (and by the expected shape when the spec gives one), and
whatever the bytes, the only error that comes out is our own IdxError.
"""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.core.errors import BenchError
from bench.data.folder import FolderSource
from bench.data.idx import (
    IdxError,
    encode_idx,
    idx_header,
    parse_idx,
    read_idx,
    read_idx_gz,
)
from bench.data.loader import load_idx_dataset
from bench.data.spec import SourceRejected

BOMB_BYTES = 64 << 20  # what the bomb expands to; it is about 64 KB on disk


def write_gzip_bomb(path: Path, header: bytes, zeros: int) -> Path:
    """Write a gzip file holding ``header`` followed by ``zeros`` zero bytes, streamed."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    chunk = bytes(1 << 20)
    with path.open("wb") as handle:
        handle.write(compressor.compress(header))
        for _ in range(zeros // len(chunk)):
            handle.write(compressor.compress(chunk))
        handle.write(compressor.flush())
    return path


class CountingStream(io.BytesIO):
    """A BytesIO that counts the bytes handed out by ``read``."""

    handed_out = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.handed_out += len(data)
        return data


def peak_traced_bytes(action) -> tuple[int, BaseException | None]:
    """Run ``action`` under tracemalloc; return the peak of traced memory and what it raised."""
    tracemalloc.start()
    raised = None
    try:
        action()
    except BaseException as error:  # noqa: BLE001 - handed back to the test to check
        raised = error
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, raised


def test_gzip_bomb_in_the_mirror_is_rejected_without_expanding_it(tiny_idx):
    path = tiny_idx.folder / "train-images-idx3-ubyte.gz"
    write_gzip_bomb(path, idx_header((12, 4, 3)), BOMB_BYTES)
    assert path.stat().st_size < 1 << 20
    source = FolderSource(tiny_idx.spec, tiny_idx.folder, "mirror", "", explicit=True)
    peak, raised = peak_traced_bytes(source.fetch)
    assert isinstance(raised, SourceRejected)
    assert str(raised).startswith(
        f"{path}: longer than its header says: expected 160 bytes for dimensions 12x4x3"
    )
    # gzip.decompress of the whole file peaked at over 64 MB here; bounded reading stays small
    assert peak < 4 << 20, f"peak {peak:,} bytes"


def test_gzip_bomb_behind_a_header_claiming_huge_sizes_stops_after_the_header(tiny_idx):
    """A header claiming 4 GB of images would bound nothing; the expected shape does."""
    path = tiny_idx.folder / "train-images-idx3-ubyte.gz"
    write_gzip_bomb(path, idx_header((2**32 - 1, 4, 3)), BOMB_BYTES)
    peak, raised = peak_traced_bytes(lambda: load_idx_dataset(tiny_idx.spec, tiny_idx.folder))
    assert isinstance(raised, BenchError)
    assert f"{path}: wrong dimensions: expected 12x4x3, got 4294967295x4x3" in str(raised)
    assert peak < 4 << 20, f"peak {peak:,} bytes"


def test_raw_file_longer_than_its_header_is_read_one_byte_past_its_end():
    content = encode_idx(np.zeros((12, 4, 3), dtype=np.uint8))
    stream = CountingStream(content + bytes(10 << 20))
    with pytest.raises(IdxError, match=r"^big: longer than its header says: expected 160 bytes"):
        read_idx(stream, "big", ndim=3)
    assert stream.handed_out == len(content) + 1


def test_shape_mismatch_is_found_before_the_data_is_read():
    stream = CountingStream(idx_header((5, 28, 28)) + bytes(5 * 28 * 28))
    with pytest.raises(IdxError, match=r"^f: wrong dimensions: expected 60000x28x28, got 5x28x28"):
        read_idx(stream, "f", ndim=3, shape=(60000, 28, 28))
    assert stream.handed_out == 16


def test_huge_header_claim_without_the_data_is_truncated_not_a_memory_error():
    content = idx_header((2**32 - 1, 2**32 - 1, 2**32 - 1)) + b"\x07" * 100
    with pytest.raises(IdxError, match=r"^h: truncated: expected 79,228,162,\d+.* bytes.*got 116"):
        parse_idx(content, "h", ndim=3)


def test_gzip_with_garbage_after_the_data_is_rejected():
    content = gzip.compress(encode_idx(np.arange(9, dtype=np.uint8))) + b"garbage!"
    with pytest.raises(IdxError, match=r"^g\.gz: not a readable gzip file"):
        read_idx_gz(io.BytesIO(content), "g.gz", ndim=1)


def test_gzip_with_a_wrong_crc_is_rejected():
    content = bytearray(gzip.compress(encode_idx(np.arange(9, dtype=np.uint8))))
    content[-8] ^= 0xFF  # first byte of the CRC-32 trailer
    with pytest.raises(IdxError, match=r"^c\.gz: not a readable gzip file \(CRC check failed"):
        read_idx_gz(io.BytesIO(bytes(content)), "c.gz", ndim=1)


def test_good_gzip_round_trips():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    decoded = read_idx_gz(io.BytesIO(gzip.compress(encode_idx(array))), "ok.gz", 3, (2, 3, 4))
    np.testing.assert_array_equal(decoded, array)
    assert decoded.flags.writeable


# ---------------------------------------------------------------- properties (Hypothesis)

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
dims_strategy = st.lists(
    st.one_of(st.integers(0, 6), st.integers(0, 2**32 - 1)), min_size=0, max_size=4
)


@st.composite
def idx_like_bytes(draw) -> bytes:
    """A valid-looking IDX header (any dimension count and sizes) followed by arbitrary bytes."""
    dims = draw(dims_strategy)
    type_byte = draw(st.sampled_from([0x08, 0x08, 0x08, 0x09, 0x0D]))
    header = bytes([0, 0, type_byte, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    return header + draw(st.binary(max_size=300))


def assert_only_idx_error(read, content: bytes, ndim: int, shape=None) -> None:
    """``read`` either raises IdxError or returns an array that encodes back to ``content``."""
    try:
        array = read(content, ndim, shape)
    except IdxError as error:
        assert str(error).startswith("f: ")
        return
    assert array.dtype == np.uint8
    assert array.ndim == ndim
    if shape is not None:
        assert array.shape == shape
    assert encode_idx(array) == content


def parse(content: bytes, ndim: int, shape=None) -> np.ndarray:
    return parse_idx(content, "f", ndim, shape)


def gunzip_parse(content: bytes, ndim: int, shape=None) -> np.ndarray:
    return read_idx_gz(io.BytesIO(gzip.compress(content)), "f", ndim, shape)


@PROPERTY_SETTINGS
@given(content=st.binary(max_size=400), ndim=st.integers(0, 4))
def test_arbitrary_bytes_raise_only_idx_error(content, ndim):
    assert_only_idx_error(parse, content, ndim)


@PROPERTY_SETTINGS
@given(content=idx_like_bytes(), ndim=st.integers(1, 3), with_shape=st.booleans())
def test_bytes_behind_a_valid_looking_header_raise_only_idx_error(content, ndim, with_shape):
    shape = (2, 3, 1)[:ndim] if with_shape else None
    assert_only_idx_error(parse, content, ndim, shape)


@PROPERTY_SETTINGS
@given(content=st.one_of(idx_like_bytes(), st.binary(max_size=300)), ndim=st.integers(1, 3))
def test_gzip_of_arbitrary_bytes_raises_only_idx_error(content, ndim):
    assert_only_idx_error(gunzip_parse, content, ndim)


@PROPERTY_SETTINGS
@given(content=st.binary(max_size=300))
def test_arbitrary_bytes_read_as_gzip_raise_only_idx_error(content):
    with pytest.raises(IdxError, match=r"^f: "):
        read_idx_gz(io.BytesIO(content), "f", ndim=1)


@PROPERTY_SETTINGS
@given(
    data=st.binary(min_size=1, max_size=60),
    position=st.integers(0, 10_000),
    xor=st.integers(1, 255),
    cut=st.integers(0, 10_000),
)
def test_damaged_gzip_of_a_good_file_raises_only_idx_error(data, position, xor, cut):
    """Flip one byte of a good gzip file and cut it short somewhere: IdxError or the data."""
    content = encode_idx(np.frombuffer(data, dtype=np.uint8))
    damaged = bytearray(gzip.compress(content))
    damaged[position % len(damaged)] ^= xor
    damaged = bytes(damaged[: len(damaged) - cut % len(damaged)])
    try:
        array = read_idx_gz(io.BytesIO(damaged), "f", ndim=1)
    except IdxError as error:
        assert str(error).startswith("f: ")
    else:  # a flip in the header's flags or mtime can leave the content intact
        assert encode_idx(array) == content
