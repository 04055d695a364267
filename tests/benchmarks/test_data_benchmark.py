"""How long a warm load of MNIST takes: 70,000 images from the verified .npy cache."""

from __future__ import annotations

import pytest

from bench.data import load_mnist


@pytest.mark.benchmark(group="data load")
def test_warm_load_of_mnist(benchmark, mnist_mirror, bench_home):
    load_mnist(mnist_mirror)
    dataset = benchmark(load_mnist)
    assert dataset.source == f"cache:{bench_home / 'mnist'}"
    assert dataset.x_train.shape == (60_000, 28, 28)
    assert dataset.x_test.shape == (10_000, 28, 28)
