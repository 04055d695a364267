"""Cached corrupted test sets (compute once, verify on read, recompute a bad entry) and the
loader for the published MNIST-C folder layout."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from bench.core.errors import BenchError
from bench.data.corrupted import corrupted_path, load_corrupted, load_corrupted_suite
from bench.data.corruptions import VERSION, corrupt
from bench.data.dataset import Dataset
from bench.data.idx import parse_idx
from bench.data.mnist_c import load_mnist_c_folder, mnist_c_names

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture(scope="module")
def real_test_images() -> tuple[np.ndarray, np.ndarray]:
    """The first 300 real MNIST test images and labels."""
    images_file = MNIST / "t10k-images-idx3-ubyte.gz"
    labels_file = MNIST / "t10k-labels-idx1-ubyte.gz"
    if not images_file.is_file() or not labels_file.is_file():
        pytest.skip(f"real MNIST test files not found in {MNIST}")
    images = parse_idx(gzip.decompress(images_file.read_bytes()), "t10k-images", 3)
    labels = parse_idx(gzip.decompress(labels_file.read_bytes()), "t10k-labels", 1)
    return images[:300], labels[:300]


@pytest.fixture
def small_mnist(real_test_images) -> Dataset:
    """A Dataset named mnist whose test split is 300 real test images."""
    images, labels = real_test_images
    return Dataset(
        name="mnist",
        x_train=images[:10],
        y_train=labels[:10],
        x_test=images,
        y_test=labels,
        class_names=tuple(str(d) for d in range(10)),
        source="test",
        checksums={},
        cache_path=None,
    )


def forbid_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr("bench.data.corrupted.corrupt", refuse)


# --------------------------------------------------------------------------- cache


def test_first_load_computes_and_caches_then_reads_the_cache(small_mnist, tmp_path, monkeypatch):
    first = load_corrupted(small_mnist, "rotate", seed=3, cache_root=tmp_path)
    assert first.source == "computed"
    np.testing.assert_array_equal(first.images, corrupt("rotate", small_mnist.x_test, 3))
    assert first.labels is small_mnist.y_test and first.seed == 3
    path = corrupted_path("mnist", "rotate", 3, tmp_path)
    assert path == tmp_path / "corrupted" / "mnist" / f"v{VERSION}" / "seed3" / "rotate.npy"
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["corruption"] == "rotate" and manifest["seed"] == 3
    assert manifest["code_version"] == VERSION and len(manifest["sha256"]) == 64
    assert sorted(p.name for p in path.parent.iterdir()) == ["rotate.json", "rotate.npy"]

    forbid_computing(monkeypatch)
    second = load_corrupted(small_mnist, "rotate", seed=3, cache_root=tmp_path)
    assert second.source == f"cache:{path}"
    np.testing.assert_array_equal(second.images, first.images)


def test_seeds_and_corruptions_are_cached_apart(small_mnist, tmp_path):
    a = load_corrupted(small_mnist, "shot_noise", seed=0, cache_root=tmp_path)
    b = load_corrupted(small_mnist, "shot_noise", seed=1, cache_root=tmp_path)
    assert not np.array_equal(a.images, b.images)
    suite = load_corrupted_suite(small_mnist, ["fog", "stripe"], seed=0, cache_root=tmp_path)
    assert list(suite) == ["fog", "stripe"]
    names = sorted(
        p.name for p in (tmp_path / "corrupted" / "mnist" / f"v{VERSION}").rglob("*.npy")
    )
    assert names == ["fog.npy", "shot_noise.npy", "shot_noise.npy", "stripe.npy"]


def test_a_damaged_entry_is_recomputed_and_rewritten(small_mnist, tmp_path, caplog):
    good = load_corrupted(small_mnist, "zigzag", cache_root=tmp_path).images
    path = corrupted_path("mnist", "zigzag", 0, tmp_path)
    content = bytearray(path.read_bytes())
    content[-100] ^= 0xFF  # one flipped pixel byte
    path.write_bytes(bytes(content))
    with caplog.at_level(logging.WARNING, logger="bench.data"):
        again = load_corrupted(small_mnist, "zigzag", cache_root=tmp_path)
    assert again.source == "computed"
    assert "recomputing a bad cache entry" in caplog.text and "SHA-256" in caplog.text
    np.testing.assert_array_equal(again.images, good)
    assert load_corrupted(small_mnist, "zigzag", cache_root=tmp_path).source.startswith("cache:")


def test_truncated_file_missing_manifest_or_other_test_images_are_recomputed(
    small_mnist, tmp_path, caplog
):
    load_corrupted(small_mnist, "brightness", cache_root=tmp_path)
    path = corrupted_path("mnist", "brightness", 0, tmp_path)
    path.with_suffix(".json").unlink()
    with caplog.at_level(logging.WARNING, logger="bench.data"):
        assert load_corrupted(small_mnist, "brightness", cache_root=tmp_path).source == "computed"
    assert "incomplete entry" in caplog.text

    path.write_bytes(path.read_bytes()[:1000])
    assert load_corrupted(small_mnist, "brightness", cache_root=tmp_path).source == "computed"

    other = Dataset(**{**small_mnist.__dict__, "x_test": small_mnist.x_test[::-1].copy()})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bench.data"):
        result = load_corrupted(other, "brightness", cache_root=tmp_path)
    assert result.source == "computed" and "clean_test_sha256" in caplog.text
    np.testing.assert_array_equal(result.images, corrupt("brightness", other.x_test))


def test_default_cache_root_is_mnist_bench_home(small_mnist, bench_home):
    load_corrupted(small_mnist, "stripe")
    assert (bench_home / "corrupted" / "mnist" / f"v{VERSION}" / "seed0" / "stripe.npy").is_file()


def test_code_version_is_part_of_the_key(small_mnist, tmp_path, monkeypatch):
    load_corrupted(small_mnist, "scale", cache_root=tmp_path)
    monkeypatch.setattr("bench.data.corrupted.VERSION", VERSION + 1)
    assert load_corrupted(small_mnist, "scale", cache_root=tmp_path).source == "computed"
    assert (tmp_path / "corrupted" / "mnist" / f"v{VERSION + 1}" / "seed0" / "scale.npy").is_file()


def test_bad_names_and_seeds_are_refused(small_mnist, tmp_path):
    with pytest.raises(BenchError, match="unknown corruption 'foggy'"):
        load_corrupted(small_mnist, "foggy", cache_root=tmp_path)
    with pytest.raises(BenchError, match="non-negative integer"):
        load_corrupted(small_mnist, "fog", seed=-2, cache_root=tmp_path)


def test_suite_defaults_to_the_corruptions_of_the_dataset(small_mnist, tmp_path, monkeypatch):
    fashion = Dataset(**{**small_mnist.__dict__, "name": "fashion_mnist"})
    # Only which names the suite asks for is checked here.
    monkeypatch.setattr(
        "bench.data.corrupted.load_corrupted",
        lambda dataset, name, seed, cache_root: name,
    )
    names = list(load_corrupted_suite(fashion, cache_root=tmp_path))
    assert "stripe" not in names and "canny_edges" not in names and len(names) == 13


# --------------------------------------------------------------------------- MNIST-C folders


def write_mnist_c(root: Path, sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> Path:
    """Write ``sets`` in the published layout: (N, 28, 28, 1) uint8 images, uint8 labels."""
    for name, (images, labels) in sets.items():
        folder = root / name
        folder.mkdir(parents=True)
        np.save(folder / "test_images.npy", images[..., np.newaxis])
        np.save(folder / "test_labels.npy", labels)
        np.save(folder / "train_images.npy", images[:2, ..., np.newaxis])  # present, not read
    return root


def test_loads_the_published_layout(real_test_images, tmp_path):
    images, labels = real_test_images
    sets = {
        "identity": (images[:40], labels[:40]),
        "fog": (corrupt("fog", images[:40], 0), labels[:40]),
        "shot_noise": (corrupt("shot_noise", images[:40], 0), labels[:40]),
    }
    root = write_mnist_c(tmp_path / "mnist_c", sets)
    (root / "README.txt").write_text("not a corruption")
    assert mnist_c_names(root) == ["shot_noise", "fog", "identity"]
    loaded = load_mnist_c_folder(root)
    assert list(loaded) == ["shot_noise", "fog", "identity"]
    for name, (expected_images, expected_labels) in sets.items():
        got = loaded[name]
        assert got.images.shape == (40, 28, 28) and got.images.dtype == np.uint8
        np.testing.assert_array_equal(got.images, expected_images)
        np.testing.assert_array_equal(got.labels, expected_labels)
        assert got.source == f"mnist-c:{root / name}" and got.seed is None
    assert list(load_mnist_c_folder(root, ["fog"])) == ["fog"]


def test_mnist_c_errors_name_the_problem(real_test_images, tmp_path):
    images, labels = real_test_images
    with pytest.raises(BenchError, match="does not exist"):
        load_mnist_c_folder(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BenchError, match="holds no corruption folders"):
        load_mnist_c_folder(empty)

    root = write_mnist_c(tmp_path / "c", {"fog": (images[:10], labels[:10])})
    with pytest.raises(BenchError, match=r"lacks zigzag .*Present: fog"):
        load_mnist_c_folder(root, ["fog", "zigzag"])

    np.save(root / "fog" / "test_images.npy", np.zeros((10, 28, 28, 3), np.uint8))
    with pytest.raises(BenchError, match=r"fog/test_images.npy holds shape \(10, 28, 28, 3\)"):
        load_mnist_c_folder(root)
    np.save(root / "fog" / "test_images.npy", np.zeros((10, 28, 28, 1), np.float32))
    with pytest.raises(BenchError, match="holds float32 values; expected uint8"):
        load_mnist_c_folder(root)
    np.save(root / "fog" / "test_images.npy", images[:10, ..., np.newaxis])
    np.save(root / "fog" / "test_labels.npy", labels[:9])
    with pytest.raises(BenchError, match="has 10 images but 9 labels"):
        load_mnist_c_folder(root)
    (root / "fog" / "test_labels.npy").unlink()
    with pytest.raises(BenchError, match="test_labels.npy is missing"):
        load_mnist_c_folder(root)
    (root / "fog" / "test_labels.npy").write_bytes(b"not numpy")
    with pytest.raises(BenchError, match="not a readable .npy file"):
        load_mnist_c_folder(root)
    np.save(root / "fog" / "test_labels.npy", np.arange(10) + 5)
    with pytest.raises(BenchError, match=r"labels 5..14; expected 0..9"):
        load_mnist_c_folder(root)
