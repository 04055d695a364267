"""Fashion-MNIST through the same loader, from Debian's dataset-fashion-mnist files."""

from __future__ import annotations

import numpy as np
import pytest

from bench.core.errors import BenchError
from bench.data import fashion_mnist as fashion
from bench.data import load_dataset
from bench.data.spec import IDX_FILES

DEBIAN_FILES_PRESENT = all(
    (fashion.DEBIAN_DIR / f"{name}.gz").is_file() for name in IDX_FILES.values()
)
needs_debian_files = pytest.mark.skipif(
    not DEBIAN_FILES_PRESENT,
    reason=f"Fashion-MNIST files absent from {fashion.DEBIAN_DIR} "
    "(apt-get install dataset-fashion-mnist)",
)


@needs_debian_files
def test_fashion_mnist_from_the_debian_package(bench_home):
    dataset = load_dataset("fashion_mnist")
    assert dataset.source == f"debian:{fashion.DEBIAN_DIR}"
    assert dataset.x_train.shape == (60_000, 28, 28)
    assert dataset.x_test.shape == (10_000, 28, 28)
    assert dataset.x_train.dtype == dataset.y_train.dtype == np.uint8
    assert np.bincount(dataset.y_train).tolist() == [6000] * 10
    assert np.bincount(dataset.y_test).tolist() == [1000] * 10
    assert dataset.class_names[0] == "T-shirt/top"
    assert dataset.class_names[9] == "Ankle boot"
    assert dataset.num_classes == 10
    assert dataset.checksums == fashion.FASHION_MNIST_CHECKSUMS
    assert dataset.cache_path == str(bench_home / "fashion_mnist")
    warm = load_dataset("fashion_mnist")
    assert warm.source == f"cache:{bench_home / 'fashion_mnist'}"
    np.testing.assert_array_equal(warm.y_test, dataset.y_test)


@needs_debian_files
def test_fashion_mirror_variable_comes_first(bench_home, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_BENCH_MIRROR", str(fashion.DEBIAN_DIR))
    assert load_dataset("fashion_mnist").source == f"mirror:{fashion.DEBIAN_DIR}"


def test_fashion_all_sources_failing(bench_home, monkeypatch, tmp_path):
    monkeypatch.setattr(fashion, "DEBIAN_DIR", tmp_path / "absent")
    with pytest.raises(BenchError) as caught:
        load_dataset("fashion_mnist")
    message = str(caught.value)
    assert "1. mirror: not set" in message
    assert f"4. debian:{tmp_path / 'absent'}: " in message
    assert "set FASHION_MNIST_BENCH_MIRROR=/path/to/idx/files" in message
    assert "apt-get install dataset-fashion-mnist" in message
