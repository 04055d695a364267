"""The IDX parser and encoder, and the checks every file goes through."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from bench.data.folder import FolderSource
from bench.data.idx import IdxError, encode_idx, idx_sha256, parse_idx, read_idx_gz, sha256_hex


@pytest.mark.parametrize("shape", [(5, 3, 2), (7,), (1, 1, 1)])
def test_round_trip(shape):
    array = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    content = encode_idx(array)
    decoded = parse_idx(content, "generated", ndim=len(shape))
    assert decoded.dtype == np.uint8
    assert decoded.shape == shape
    np.testing.assert_array_equal(decoded, array)
    assert decoded.flags.writeable
    assert len(content) == 4 + 4 * len(shape) + array.size


def test_header_layout_is_big_endian():
    content = encode_idx(np.zeros((2, 28, 28), dtype=np.uint8))
    assert content[:4] == b"\x00\x00\x08\x03"
    assert content[4:16] == (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    assert encode_idx(np.zeros(3, dtype=np.uint8))[:8] == b"\x00\x00\x08\x01\x00\x00\x00\x03"


def test_idx_sha256_is_the_hash_of_the_encoding():
    array = np.random.default_rng(1).integers(0, 256, (9, 4, 4), dtype=np.uint8)
    assert idx_sha256(array) == sha256_hex(encode_idx(array))


def test_wrong_magic_is_named():
    content = bytearray(encode_idx(np.zeros((2, 2, 2), dtype=np.uint8)))
    content[2] = 0x0D  # float type instead of unsigned byte
    with pytest.raises(IdxError) as caught:
        parse_idx(bytes(content), "images.idx", ndim=3)
    message = str(caught.value)
    assert message.startswith("images.idx: wrong magic number: expected 0x00000803")
    assert "got 0x00000D03" in message
    assert "Fix:" not in message  # the fix depends on whose file it is: the caller adds it


def test_gzip_bytes_read_as_raw_are_not_idx():
    content = gzip.compress(encode_idx(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(
        IdxError, match=r"labels: wrong magic number: expected 0x00000801, got 0x1F8B"
    ):
        parse_idx(content, "labels", ndim=1)


def test_wrong_number_of_dimensions():
    content = encode_idx(np.zeros((3, 4), dtype=np.uint8))
    with pytest.raises(IdxError, match=r"f: wrong number of dimensions: expected 3, got 2"):
        parse_idx(content, "f", ndim=3)


def test_wrong_image_size(tiny_idx):
    content = encode_idx(np.zeros((12, 4, 4), dtype=np.uint8))
    with pytest.raises(IdxError, match=r"wrong dimensions: expected 12x4x3, got 12x4x4"):
        tiny_idx.spec.decode("x_train", content, "train-images-idx3-ubyte")


def test_truncated_file():
    content = encode_idx(np.zeros((12, 4, 3), dtype=np.uint8))
    with pytest.raises(IdxError) as caught:
        parse_idx(content[:-5], "t.idx", ndim=3)
    assert str(caught.value).startswith(
        "t.idx: truncated: expected 160 bytes for dimensions 12x4x3, got 155"
    )


def test_file_longer_than_its_header():
    content = encode_idx(np.zeros(6, dtype=np.uint8)) + b"\x00"
    with pytest.raises(IdxError, match=r"longer than its header says: expected 14 bytes"):
        parse_idx(content, "l", ndim=1)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x00\x00", "too short for an IDX header: expected at least 4 bytes, got 2"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated header: expected 16 bytes, got 6"),
    ],
)
def test_truncated_header(content, expected):
    with pytest.raises(IdxError, match=expected):
        parse_idx(content, "h", ndim=3)


def test_checksum_mismatch(tiny_idx):
    images = tiny_idx.arrays["x_train"].copy()
    images[0, 0, 0] ^= 1
    expected = tiny_idx.spec.checksums["train-images-idx3-ubyte"]
    with pytest.raises(IdxError) as caught:
        tiny_idx.spec.decode("x_train", encode_idx(images), "mirror/train-images-idx3-ubyte")
    message = str(caught.value)
    assert message.startswith("mirror/train-images-idx3-ubyte: checksum mismatch")
    assert f"expected SHA-256 {expected}, got {idx_sha256(images)}" in message


def test_damaged_gzip_is_reported(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(encode_idx(np.zeros(100, dtype=np.uint8)))[:-10])
    with (
        path.open("rb") as handle,
        pytest.raises(IdxError, match=r"train-labels-idx1-ubyte.gz: not a readable gzip file"),
    ):
        read_idx_gz(handle, str(path), ndim=1)


def test_folder_source_reads_raw_and_gz(tiny_idx, tmp_path, idx_writer):
    raw = idx_writer(tmp_path / "raw", tiny_idx.arrays, gz=False)
    for folder in (raw, tiny_idx.folder):
        split = FolderSource(tiny_idx.spec, folder, "mirror", "", explicit=True).fetch()
        assert split.source == f"mirror:{folder}"
        assert split.checksums == dict(tiny_idx.spec.checksums)
        for slot, array in tiny_idx.arrays.items():
            np.testing.assert_array_equal(split.arrays[slot], array)
