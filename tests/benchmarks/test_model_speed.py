"""Per-model speed: one training step at the model's batch size, inference over the test set,
single-image latency; one parametrized benchmark per registered model and measurement.

``extra_info`` carries what a reader needs beside the seconds: images per call, images/s from
the median round, and for Keras models the achieved GFLOP/s and its share of the machine's
float32 matmul peak, measured in this process.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bench.measure.flops import TRAINING_MULTIPLIER
from bench.models.registry import get_model, list_models

MODELS = list_models()


def record_rate(
    benchmark: Any, images: int, flops_per_image: int | None, peak_gflops: float
) -> None:
    """Put images/s (median round) and, where FLOPs are known, GFLOP/s and % of peak in the JSON."""
    benchmark.extra_info["images_per_call"] = images
    benchmark.extra_info["peak_gflops"] = round(peak_gflops, 1)
    if benchmark.stats is None:  # --benchmark-disable: one plain call, nothing measured
        return
    rate = images / benchmark.stats.stats.median
    benchmark.extra_info["images_per_s"] = round(rate, 1)
    if flops_per_image is not None:
        gflops = flops_per_image * rate / 1e9
        benchmark.extra_info["gflops"] = round(gflops, 2)
        benchmark.extra_info["percent_of_peak"] = round(100 * gflops / peak_gflops, 1)


@pytest.mark.benchmark(group="train step", warmup=True, warmup_iterations=3)
@pytest.mark.parametrize("name", MODELS)
def test_training_step(benchmark: Any, prepared: Any, peak_gflops: float, name: str) -> None:
    """Keras: one optimizer step on one batch of the model's own batch size, through the
    compiled train function ``fit`` uses. scikit-learn has no steps: one whole ``fit`` on
    2,000 images instead."""
    model = prepared(name)
    if model.family == "torch":
        pytest.skip("a torch model's step runs in the harness's own loop (see the trainer tests)")
    if model.family != "keras":
        spec = get_model(name)

        def fit() -> Any:
            estimator = spec.build(model.config, model.x_train.shape[1:], 10)
            return estimator.fit(model.x_train, model.y_train)

        estimator = benchmark.pedantic(fit, rounds=3, warmup_rounds=0)
        accuracy = np.mean(estimator.predict_proba(model.x_test).argmax(axis=1) == model.y_test)
        assert accuracy > 0.8
        record_rate(benchmark, len(model.x_train), None, peak_gflops)
        return

    import tensorflow as tf

    from bench.models.preprocess import one_hot

    size = model.batch_size
    # Ready tensors, as fit's input pipeline hands them over: no per-call NumPy conversion.
    x = tf.constant(model.x_train[:size])
    y = tf.constant(one_hot(model.y_train[:size], 10))
    keras_model = model.adapter.model
    logs = benchmark(keras_model.train_on_batch, x, y)
    assert np.all(np.isfinite(np.asarray(logs, dtype=float)))
    flops = None if model.forward_flops is None else TRAINING_MULTIPLIER * model.forward_flops
    record_rate(benchmark, size, flops, peak_gflops)


@pytest.mark.benchmark(group="inference, test set", warmup=True, warmup_iterations=1)
@pytest.mark.parametrize("name", MODELS)
def test_batch_inference(benchmark: Any, prepared: Any, peak_gflops: float, name: str) -> None:
    """Class probabilities for the whole test set, the way the trainer measures inference."""
    model = prepared(name)
    model.adapter.predict_proba(model.x_test[:512])  # trace the compiled call before timing
    proba = benchmark(model.adapter.predict_proba, model.x_test)
    assert proba.shape == (len(model.x_test), 10)
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-3)
    record_rate(benchmark, len(model.x_test), model.forward_flops, peak_gflops)


@pytest.mark.benchmark(group="latency, one image", warmup=True, warmup_iterations=20)
@pytest.mark.parametrize("name", MODELS)
def test_single_image_latency(benchmark: Any, prepared: Any, peak_gflops: float, name: str) -> None:
    """One image per call through the model's single-image predictor (batch of one)."""
    model = prepared(name)
    image = model.x_test[:1]
    model.adapter.predict_one(image)
    proba = benchmark(model.adapter.predict_one, image)
    assert np.asarray(proba).shape == (1, 10)
    record_rate(benchmark, 1, model.forward_flops, peak_gflops)
