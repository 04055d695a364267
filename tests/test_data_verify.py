"""``data verify`` on the folder it is given, malformed cache manifests, and whose file a fix
may tell the user to delete."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.cli import main
from bench.core.errors import BenchError
from bench.data.cache import ArrayCache
from bench.data.idx import encode_idx
from bench.data.loader import load_idx_dataset, verify_idx_dataset
from bench.data.spec import IDX_FILES, SourceRejected, Split

DELETE_HINT = "delete the file and fetch it again"


# ------------------------------------------------------------------ verify --data-dir


def test_verify_a_data_dir_that_does_not_exist_is_an_error(tiny_idx, tmp_path):
    load_idx_dataset(tiny_idx.spec, tiny_idx.folder)  # a good cache must not hide the typo
    typo = tmp_path / "typo"
    with pytest.raises(BenchError) as caught:
        verify_idx_dataset(tiny_idx.spec, typo)
    message = str(caught.value)
    assert message.startswith(
        f"cannot verify: {typo} is not a folder (given by --data-dir; it does not exist)"
    )
    assert "train-images-idx3-ubyte" in message


def test_verify_a_mirror_variable_naming_a_file(tiny_idx, tmp_path, monkeypatch):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    monkeypatch.setenv("TINY_BENCH_MIRROR", str(a_file))
    with pytest.raises(BenchError, match=r"notes\.txt is not a folder \(given by TINY_BENCH_MIRR"):
        verify_idx_dataset(tiny_idx.spec)


def test_verify_hashes_and_checks_the_headers_of_the_given_folder(tiny_idx):
    checks = verify_idx_dataset(tiny_idx.spec, tiny_idx.folder)  # nothing cached yet
    assert [Path(check.path).name for check in checks] == [
        f"{name}.gz" for name in IDX_FILES.values()
    ]
    assert all(check.ok for check in checks)
    labels = tiny_idx.folder / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(encode_idx(np.zeros((6, 1), dtype=np.uint8))))
    problems = {
        Path(c.path).name: c.problem for c in verify_idx_dataset(tiny_idx.spec, labels.parent)
    }
    assert problems["t10k-labels-idx1-ubyte.gz"].startswith(
        f"{labels}: wrong number of dimensions: expected 1, got 2"
    )
    assert problems["train-images-idx3-ubyte.gz"] is None


def test_verify_an_existing_folder_without_the_files_names_them_missing(tiny_idx, tmp_path):
    checks = verify_idx_dataset(tiny_idx.spec, tmp_path)
    assert [(Path(c.path).name, c.problem) for c in checks] == [
        (name, f"missing (neither raw nor .gz). Fix: put {name} or {name}.gz in {tmp_path}")
        for name in IDX_FILES.values()
    ]


def test_nothing_to_verify_names_both_ways_to_set_a_folder(tiny_idx):
    with pytest.raises(BenchError) as caught:
        verify_idx_dataset(tiny_idx.spec)
    assert "and no mirror folder set (neither --data-dir nor TINY_BENCH_MIRROR)" in str(
        caught.value
    )


def test_cli_verify_of_a_missing_data_dir_exits_2(bench_home, tmp_path, capsys):
    typo = tmp_path / "typo"
    assert main(["data", "verify", "--data-dir", str(typo)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot verify: {typo} is not a folder (given by --data-dir")
    assert "no mirror folder set" not in err


def test_cli_verify_of_a_bad_mirror_file_tells_how_to_fix_it(
    mnist_mirror, bench_home, tmp_path, capsys
):
    mirror = tmp_path / "my-mnist"
    mirror.mkdir()
    for name in IDX_FILES.values():
        (mirror / f"{name}.gz").symlink_to(mnist_mirror / f"{name}.gz")
    labels = mirror / "t10k-labels-idx1-ubyte.gz"
    labels.unlink()
    good = gzip.decompress((mnist_mirror / "t10k-labels-idx1-ubyte.gz").read_bytes())
    labels.write_bytes(gzip.compress(good[:-100]))  # a truncated download
    assert main(["data", "verify", "--data-dir", str(mirror)]) == 1
    captured = capsys.readouterr()
    assert f"BAD  {labels}" in captured.out
    assert "truncated: expected 10,008 bytes for dimensions 10000, got 9,908" in captured.out
    assert "this copy in your own folder is damaged, truncated" in captured.out
    assert "delete" not in captured.out + captured.err
    assert "1 of 4 files failed; how to fix each is said under its name" in captured.err


# ------------------------------------------------------ whose file the fix talks about


def test_a_bad_mirror_file_is_never_said_to_be_deleted(tiny_idx, caplog):
    images = tiny_idx.folder / "train-images-idx3-ubyte.gz"
    content = bytearray(gzip.decompress(images.read_bytes()))
    content[-1] ^= 1
    images.write_bytes(gzip.compress(bytes(content)))
    with caplog.at_level(logging.WARNING, logger="bench.data"), pytest.raises(BenchError) as caught:
        load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    for text in (str(caught.value), caplog.text):
        assert "train-images-idx3-ubyte.gz: checksum mismatch" in text
        assert "this copy in your own folder is damaged" in text
        assert "TINY_BENCH_MIRROR" in text
        assert DELETE_HINT not in text
    (check,) = [c for c in verify_idx_dataset(tiny_idx.spec, tiny_idx.folder) if not c.ok]
    assert "this copy in your own folder" in check.problem
    assert DELETE_HINT not in check.problem


def test_a_bad_cache_file_is_said_to_be_deleted_and_fetched_again(tiny_idx, bench_home):
    load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    labels = bench_home / "tiny" / "y_test.npy"
    content = bytearray(labels.read_bytes())
    content[-1] ^= 1
    labels.write_bytes(bytes(content))
    with pytest.raises(SourceRejected) as caught:
        ArrayCache(tiny_idx.spec, bench_home / "tiny").fetch()
    assert str(caught.value).startswith(f"{labels}: checksum mismatch")
    assert str(caught.value).endswith(f"Fix: {DELETE_HINT} (python -m bench data fetch).")
    (check,) = [c for c in verify_idx_dataset(tiny_idx.spec) if not c.ok]
    assert check.path == str(labels)
    assert DELETE_HINT in check.problem


# ------------------------------------------------------------------ malformed manifests


def good_manifest(bench_home: Path) -> dict:
    return json.loads((bench_home / "tiny" / "manifest.json").read_text())


MALFORMED = {
    "null": lambda m: None,
    "list": lambda m: [m],
    "string": lambda m: "manifest",
    "format-true": lambda m: {**m, "format": True},
    "format-string": lambda m: {**m, "format": "1"},
    "no-dataset": lambda m: {k: v for k, v in m.items() if k != "dataset"},
    "files-null": lambda m: {**m, "files": None},
    "files-list": lambda m: {**m, "files": list(m["files"])},
    "entry-string": lambda m: {**m, "files": {**m["files"], "x_train.npy": "abc"}},
    "entry-missing": lambda m: {**m, "files": {"x_train.npy": m["files"]["x_train.npy"]}},
    "sha-number": lambda m: {
        **m,
        "files": {**m["files"], "y_test.npy": {**m["files"]["y_test.npy"], "sha256": 7}},
    },
    "bytes-negative": lambda m: {
        **m,
        "files": {**m["files"], "y_test.npy": {**m["files"]["y_test.npy"], "bytes": -1}},
    },
}


@pytest.mark.parametrize("damage", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_manifest_is_a_bad_cache_entry(tiny_idx, bench_home, caplog, damage):
    load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    manifest_path = bench_home / "tiny" / "manifest.json"
    manifest_path.write_text(json.dumps(damage(good_manifest(bench_home))))
    checks = verify_idx_dataset(tiny_idx.spec)
    assert len(checks) == 1
    assert checks[0].path == str(manifest_path)
    assert checks[0].problem.startswith(f"{manifest_path} is not a valid format-1 manifest: ")
    assert checks[0].problem.endswith(f"Fix: {DELETE_HINT} (python -m bench data fetch).")
    with caplog.at_level(logging.WARNING, logger="bench.data"):
        repaired = load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    assert repaired.source.startswith("mirror:")
    assert "replacing a bad cache entry" in caplog.text
    assert load_idx_dataset(tiny_idx.spec).source.startswith("cache:")
    assert all(check.ok for check in verify_idx_dataset(tiny_idx.spec))


def test_cli_verify_of_a_malformed_manifest_is_a_message(mnist_mirror, bench_home, capsys):
    assert main(["data", "fetch", "--data-dir", str(mnist_mirror)]) == 0
    manifest_path = bench_home / "mnist" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["x_test.npy"] = "not an object"
    manifest_path.write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["data", "verify"]) == 1
    captured = capsys.readouterr()
    assert "expected files['x_test.npy'] to be an object, found a string" in captured.out
    assert "Traceback" not in captured.err


def test_an_npz_in_place_of_a_cached_array_is_rejected(tiny_idx, bench_home):
    load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    path = bench_home / "tiny" / "x_test.npy"
    with path.open("wb") as handle:
        np.savez(handle, x_test=tiny_idx.arrays["x_test"])
    with pytest.raises(SourceRejected, match=r"x_test\.npy is unreadable \(not a single array"):
        ArrayCache(tiny_idx.spec, bench_home / "tiny").fetch()


def test_a_cached_array_of_another_shape_is_rejected_from_its_header(tiny_idx, bench_home):
    load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    path = bench_home / "tiny" / "x_train.npy"
    np.save(path, np.zeros((12, 4, 4), dtype=np.uint8))
    with pytest.raises(SourceRejected, match=r"x_train\.npy: wrong dimensions: expected 12x4x3"):
        ArrayCache(tiny_idx.spec, bench_home / "tiny").fetch()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=json_values,
    key=st.sampled_from(["format", "dataset", "files", "x_train.npy", "sha256", "bytes"]),
)
def test_any_json_in_the_manifest_gives_a_rejection_not_a_traceback(
    tiny_idx, bench_home, value, key
):
    cache = ArrayCache(tiny_idx.spec, bench_home / "tiny")
    cache.store(Split(tiny_idx.arrays, dict(tiny_idx.spec.checksums), "test"))
    manifest = good_manifest(bench_home)
    if key in ("format", "dataset", "files"):
        manifest[key] = value
    elif key == "x_train.npy":
        manifest["files"][key] = value
    else:
        manifest["files"]["y_train.npy"][key] = value
    cache.manifest_path.write_text(json.dumps(manifest))
    checks = cache.verify()
    try:
        cache.fetch()
    except SourceRejected:
        assert not all(check.ok for check in checks)
    else:
        assert all(check.ok for check in checks)


def test_a_folder_given_with_a_tilde_is_found(tiny_idx, tmp_path, monkeypatch):
    """``--data-dir "~/mnist"`` (quoted, so the shell did not expand it) or a variable."""
    monkeypatch.setenv("HOME", str(tiny_idx.folder.parent))
    given = f"~/{tiny_idx.folder.name}"
    assert load_idx_dataset(tiny_idx.spec, given).source == f"mirror:{tiny_idx.folder}"
    monkeypatch.setenv("TINY_BENCH_MIRROR", given)
    assert all(check.ok for check in verify_idx_dataset(tiny_idx.spec))
