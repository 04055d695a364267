"""FLOP counts checked against hand counts, and the achieved-GFLOP/s arithmetic."""

from __future__ import annotations

import pytest

from bench.core.tfquiet import import_tensorflow
from bench.measure.flops import FlopCount, count_flops, efficiency

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402


def test_dense_layer_matches_hand_count() -> None:
    model = keras.Sequential([keras.Input((784,)), layers.Dense(10)])
    # 784 x 10 multiply-adds (2 FLOPs each) + 10 bias adds.
    assert count_flops(model).forward == 2 * 784 * 10 + 10 == 15_690


def test_conv2d_layer_matches_hand_count() -> None:
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, (3, 3))])
    # 26 x 26 output positions x 8 filters, each a 3x3x1 dot product; one bias add per output.
    hand = 2 * (26 * 26) * 8 * (3 * 3 * 1) + 26 * 26 * 8
    assert hand == 102_752
    assert count_flops(model).forward == hand


def test_strided_same_padding_conv_without_bias() -> None:
    model = keras.Sequential(
        [keras.Input((28, 28, 3)), layers.Conv2D(4, 5, strides=2, padding="same", use_bias=False)]
    )
    assert count_flops(model).forward == 2 * (14 * 14) * 4 * (5 * 5 * 3)


def test_dense_on_a_sequence_counts_every_position() -> None:
    model = keras.Sequential([keras.Input((7, 16)), layers.Dense(3, use_bias=False)])
    assert count_flops(model).forward == 2 * 7 * 16 * 3


def test_depthwise_and_separable_convolutions() -> None:
    depthwise = keras.Sequential(
        [keras.Input((10, 10, 6)), layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)]
    )
    assert count_flops(depthwise).forward == 2 * (8 * 8) * (3 * 3) * 6 * 2
    separable = keras.Sequential(
        [keras.Input((10, 10, 6)), layers.SeparableConv2D(5, 3, use_bias=False)]
    )
    assert count_flops(separable).forward == 2 * 64 * (9 * 6) + 2 * 64 * (6 * 5)


def test_batch_norm_counts_scale_and_shift_and_weightless_layers_count_zero() -> None:
    model = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.MaxPooling2D(),
            layers.Dropout(0.5),
            layers.Flatten(),
        ]
    )
    count = count_flops(model)
    assert count.forward == 2 * 6 * 6 * 2
    assert count.uncounted == ()


def test_article_cnn_total_and_training_multiplier() -> None:
    from bench.models.registry import get_model

    spec = get_model("article_cnn")
    count = count_flops(spec.build(dict(spec.config), (28, 28, 1), 10))
    conv1 = 2 * 26 * 26 * 64 * 9 + 26 * 26 * 64
    conv2 = 2 * 11 * 11 * 32 * (9 * 64) + 11 * 11 * 32
    dense = (2 * 800 * 512 + 512) + (2 * 512 * 256 + 256) + (2 * 256 * 10 + 10)
    assert count.forward == conv1 + conv2 + dense == 6_373_674
    assert count.training == 3 * count.forward
    assert sum(count.per_layer.values()) == count.forward


def test_nested_model_is_walked_and_unknown_weighted_layers_are_listed() -> None:
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(2)], name="inner")
    model = keras.Sequential([keras.Input((4,)), inner, layers.Embedding(5, 3)])
    count = count_flops(model)
    assert count.forward == 2 * 4 * 2 + 2
    assert len(count.uncounted) == 1 and "Embedding" in count.uncounted[0]


def test_efficiency_arithmetic() -> None:
    flops = FlopCount(forward=2_000_000)
    result = efficiency(
        flops, train_samples_per_s=10_000, inference_samples_per_s=50_000, peak_gflops=120.0
    )
    assert result["train_gflops"] == pytest.approx(60.0)  # 3 x 2 MFLOP x 10,000 / s
    assert result["inference_gflops"] == pytest.approx(100.0)
    assert result["train_percent_of_peak"] == pytest.approx(50.0)
    assert result["inference_percent_of_peak"] == pytest.approx(100.0 * 100.0 / 120.0)
    missing = efficiency(flops, None, 50_000, None)
    assert missing["train_gflops"] is None and missing["inference_percent_of_peak"] is None
