"""The corruption grid on real MNIST digits and the models x corruptions accuracy heatmap."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image as mpimg

from bench.core.errors import BenchError
from bench.data.corruptions import CORRUPTIONS, corrupt
from bench.data.idx import parse_idx
from bench.results.report.figure_style import png_bytes
from bench.results.report.robustness_figures import corruption_grid, corruption_heatmap

MNIST_TEST_IMAGES = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"
)


@pytest.fixture(scope="module")
def five_digits() -> np.ndarray:
    if not MNIST_TEST_IMAGES.is_file():
        pytest.skip(f"real MNIST test images not found at {MNIST_TEST_IMAGES}")
    return parse_idx(gzip.decompress(MNIST_TEST_IMAGES.read_bytes()), "t10k-images", 3)[:5]


def test_grid_shows_clean_then_each_corruption_of_the_same_digits(five_digits, tmp_path):
    fig = corruption_grid(five_digits, seed=2, labels=[7, 2, 1, 0, 4])
    axes = np.array(fig.axes).reshape(16, 5)
    row_names = [ax.get_ylabel() for ax in axes[:, 0]]
    assert row_names == ["clean"] + [name.replace("_", " ") for name in CORRUPTIONS]
    assert [ax.get_title() for ax in axes[0]] == [f"label {d}" for d in (7, 2, 1, 0, 4)]
    np.testing.assert_array_equal(axes[0, 3].images[0].get_array(), five_digits[3])
    fog = corrupt("fog", five_digits, 2)
    np.testing.assert_array_equal(
        axes[1 + CORRUPTIONS.index("fog"), 1].images[0].get_array(), fog[1]
    )
    path = tmp_path / "grid.png"
    path.write_bytes(png_bytes(fig))
    height, width = mpimg.imread(path).shape[:2]
    assert 1200 < height < 2200 and 450 < width < 1000


def test_grid_refuses_too_many_images(five_digits):
    with pytest.raises(BenchError, match="1 to 12 images"):
        corruption_grid(np.repeat(five_digits, 3, axis=0))


def heatmap_numbers(fig) -> list[str]:
    return [text.get_text() for text in fig.axes[0].texts]


def test_heatmap_orders_columns_adds_the_mean_and_annotates_percentages():
    wide = pd.DataFrame(
        {"zigzag": [0.5, 0.9], "clean": [0.99, 0.98], "fog": [0.7, 0.8]},
        index=["mlp", "cnn_fast"],
    )
    fig = corruption_heatmap(wide)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["clean", "fog", "zigzag", "mean"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["mlp", "cnn_fast"]
    # Row by row: clean, fog, zigzag, mean of fog and zigzag (clean excluded).
    assert heatmap_numbers(fig) == ["99.0", "70.0", "50.0", "60.0", "98.0", "80.0", "90.0", "85.0"]

    long = pd.DataFrame(
        [
            {"model": model, "corruption": name, "accuracy": wide.loc[model, name]}
            for model in wide.index
            for name in wide.columns
        ]
    )
    assert heatmap_numbers(corruption_heatmap(long)) == heatmap_numbers(fig)
    with pytest.raises(BenchError, match="one accuracy per"):
        corruption_heatmap(pd.concat([long, long]))
    with pytest.raises(BenchError, match="models x corruptions accuracies"):
        corruption_heatmap(pd.DataFrame({"fog": ["high"]}))
