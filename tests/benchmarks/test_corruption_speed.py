"""How long each corruption takes on the 10,000 MNIST test images (1,000 in the one-pass mode).

    pytest tests/benchmarks/test_corruption_speed.py --benchmark-only

Three rounds each: every corruption is deterministic, so rounds differ only by machine noise.
"""

from __future__ import annotations

import pytest

from bench.data.corruptions import CORRUPTIONS, corrupt

QUICK_IMAGES = 1000


@pytest.mark.benchmark(group="corruptions (MNIST test set)")
@pytest.mark.parametrize("name", CORRUPTIONS)
def test_corruption_speed(benchmark, mnist, quick, name):
    images = mnist.x_test[:QUICK_IMAGES] if quick else mnist.x_test
    benchmark.extra_info["images"] = len(images)
    out = benchmark.pedantic(corrupt, args=(name, images, 0), rounds=3, iterations=1)
    assert out.shape == images.shape
