"""Measuring costs nothing extra: the harness's ONNX Runtime timing against a bare
``InferenceSession.run`` loop on the same inputs (target: within 1.05x; measured and
reported, never failed on).

The model is an MNIST-shaped ONNX file (784 pixels -> 256 hidden units -> 10 classes, a
scikit-learn MLP fitted on random images and converted by skl2onnx): the per-call work is
small, so any cost the harness adds per call shows. Both sides run the same session on the
same 10,000 images, alternating within each round: batch passes in batches of 256 (the
harness's :meth:`OrtModel.predict_proba` against a bare loop of ``session.run``) and
single-image calls (the harness's :func:`measure_latency` on :meth:`OrtModel.run` against
bare calls timed one by one).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="pip install 'mnist-bench[onnx]'")
pytest.importorskip("skl2onnx", reason="pip install 'mnist-bench[onnx]'")

TARGET = 1.05
IMAGES = 10_000
LATENCY_CALLS = 500
ROUNDS = 7


@pytest.fixture(scope="module")
def onnx_model() -> tuple[bytes, np.ndarray]:
    """An MNIST-shaped MLP as ONNX, and 10,000 preprocessed random images."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from bench.models.families._sklearn_files import export_sklearn_onnx

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (IMAGES, 784)).astype(np.float32) / 255.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((256,), max_iter=2, random_state=0).fit(
            x[:2000], rng.integers(0, 10, 2000)
        )
    return export_sklearn_onnx(mlp, 784).content, x


def test_harness_onnx_runtime_timing_against_a_bare_session_loop(benchmark, onnx_model, quick):
    """Throughput and latency medians of harness and bare loop, alternated per round."""
    from bench.measure.onnx_runtime import BATCH, open_session
    from bench.measure.timing import measure_batch_throughput, measure_latency

    content, x = onnx_model
    if quick:
        x = x[:1000]
    model = open_session(content, "probabilities")
    session, feed_name = model.session, model.input_name
    outputs = [model.output_name]

    def bare_pass() -> float:
        start = time.perf_counter()
        for i in range(0, len(x), BATCH):
            session.run(outputs, {feed_name: x[i : i + BATCH]})
        return time.perf_counter() - start

    def bare_latency() -> float:
        millis = []
        for i in range(LATENCY_CALLS):
            image = x[i % len(x)][np.newaxis]
            start = time.perf_counter()
            session.run(outputs, {feed_name: image})
            millis.append((time.perf_counter() - start) * 1000.0)
        return float(np.median(millis))

    times: dict[str, list[float]] = {
        "harness_pass_s": [],
        "bare_pass_s": [],
        "harness_p50_ms": [],
        "bare_p50_ms": [],
    }
    bare_pass()  # first-call costs of the session, paid by no round
    counter = iter(range(ROUNDS))

    def one_round() -> None:
        harness_first = next(counter) % 2 == 0
        for side in ("harness", "bare") if harness_first else ("bare", "harness"):
            if side == "harness":
                passes = measure_batch_throughput(model.predict_proba, x, repeats=1, warmup=0)
                times["harness_pass_s"].append(passes["seconds"][0])
                latency = measure_latency(model.run, x, n=LATENCY_CALLS, warmup=0)
                times["harness_p50_ms"].append(latency["median_ms"])
            else:
                times["bare_pass_s"].append(bare_pass())
                times["bare_p50_ms"].append(bare_latency())

    benchmark.pedantic(one_round, rounds=1 if benchmark.disabled else ROUNDS)
    throughput_ratio = _median_ratio(times["harness_pass_s"], times["bare_pass_s"])
    latency_ratio = _median_ratio(times["harness_p50_ms"], times["bare_p50_ms"])
    worst = max(throughput_ratio, latency_ratio)
    benchmark.extra_info.update(
        {
            "target": f"harness ORT timing <= {TARGET}x a bare InferenceSession.run loop",
            "target_met": "yes" if worst <= TARGET else "no",
            "ratio": round(worst, 4),
            "batch_time_ratio": round(throughput_ratio, 4),
            "latency_p50_ratio": round(latency_ratio, 4),
            "images": int(len(x)),
            "session_options": model.options,
            **{key: [round(v, 5) for v in values] for key, values in times.items()},
        }
    )
    # measured and reported; a missed target is a row that says so, never a failure
    assert all(math.isfinite(v) and v > 0 for values in times.values() for v in values)


def _median_ratio(harness: list[float], bare: list[float]) -> float:
    """The median over rounds of harness / bare (each round's pair measured back to back)."""
    return float(np.median([h / b for h, b in zip(harness, bare, strict=True)]))
