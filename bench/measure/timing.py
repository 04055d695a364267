"""Throughput and latency measurement of a fitted model's prediction functions.

Every figure is measured warm (after untimed warm-up calls) and repeated; summaries give the
median and the spread, and say how they were measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


def summarize(values: list[float]) -> dict[str, float]:
    """Return min, median, p90, p99, max and IQR of ``values`` (linear-interpolated percentiles)."""
    if not values:
        raise ValueError("cannot summarize an empty list of timings")
    data = np.asarray(values, dtype=np.float64)
    q1, median, q3, p90, p99 = np.percentile(data, [25, 50, 75, 90, 99])
    return {
        "min": float(data.min()),
        "median": float(median),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(data.max()),
        "iqr": float(q3 - q1),
    }


TIME_BUDGET_SECONDS = 15.0
"""A measurement stops repeating once its timed calls have taken this long (slow models such
as k-NN would otherwise spend minutes on it); it always makes at least a few."""


def measure_batch_throughput(
    predict_all: Callable[[np.ndarray], Any],
    x: np.ndarray,
    repeats: int = 5,
    warmup: int = 1,
    budget_seconds: float = TIME_BUDGET_SECONDS,
) -> dict[str, Any]:
    """Time ``predict_all(x)`` over the whole array up to ``repeats`` times after ``warmup``
    calls, stopping early (after at least one timed pass) once ``budget_seconds`` are spent.

    Returns samples/s from the median pass (and from the fastest and slowest pass), the raw
    pass times in seconds, and ``repeats``: how many passes were timed.
    """
    for _ in range(warmup):
        predict_all(x)
    seconds: list[float] = []
    while len(seconds) < repeats and (not seconds or sum(seconds) < budget_seconds):
        start = time.perf_counter()
        predict_all(x)
        seconds.append(time.perf_counter() - start)
    stats = summarize(seconds)
    return {
        "samples": int(len(x)),
        "repeats": len(seconds),
        "warmup": warmup,
        "seconds": seconds,
        "samples_per_s": len(x) / stats["median"],
        "samples_per_s_best": len(x) / stats["min"],
        "samples_per_s_worst": len(x) / stats["max"],
        "seconds_summary": stats,
    }


MIN_LATENCY_CALLS = 50


def measure_latency(
    predict_one: Callable[[np.ndarray], Any],
    x: np.ndarray,
    n: int = 500,
    warmup: int = 20,
    budget_seconds: float = TIME_BUDGET_SECONDS,
) -> dict[str, Any]:
    """Time ``predict_one`` on up to ``n`` single images (batch of 1), one call each, after
    warm-up; stop early, after at least ``MIN_LATENCY_CALLS`` calls, once ``budget_seconds``
    of timed calls are spent.

    Returns percentiles in milliseconds and ``n``, the number of timed calls. Images are taken
    in order, cycling if ``x`` is short.
    """
    if len(x) == 0:
        raise ValueError("latency needs at least one image")
    for i in range(warmup):
        predict_one(x[i % len(x)][np.newaxis])
    millis: list[float] = []
    budget_ms = budget_seconds * 1000.0
    while len(millis) < n and (len(millis) < MIN_LATENCY_CALLS or sum(millis) < budget_ms):
        image = x[len(millis) % len(x)][np.newaxis]
        start = time.perf_counter()
        predict_one(image)
        millis.append((time.perf_counter() - start) * 1000.0)
    stats = summarize(millis)
    return {
        "n": len(millis),
        "warmup": warmup,
        **{f"{key}_ms": value for key, value in stats.items()},
    }


def time_to_accuracy(
    checks: list[dict[str, Any]], targets: tuple[float, ...] | list[float]
) -> dict[str, float]:
    """Training-clock seconds at which validation accuracy first reached each target.

    ``checks`` are the validation checks made during training (several per epoch, in order),
    each with ``train_seconds`` and ``val_accuracy``. Targets never reached are absent from
    the result. Keys are the targets as strings with up to three decimals ("0.99", "0.992").

    Example
    -------
    >>> checks = [{"train_seconds": 1.0, "val_accuracy": 0.95},
    ...           {"train_seconds": 2.0, "val_accuracy": 0.991}]
    >>> time_to_accuracy(checks, (0.9, 0.99, 0.995))
    {'0.9': 1.0, '0.99': 2.0}
    """
    reached: dict[str, float] = {}
    for target in targets:
        for check in checks:
            accuracy = check.get("val_accuracy")
            if accuracy is not None and accuracy >= target:
                reached[target_key(target)] = float(check["train_seconds"])
                break
    return reached


def target_key(target: float) -> str:
    """How a target is written as a key: ``0.99`` -> "0.99", ``0.992`` -> "0.992"."""
    return f"{target:.3f}".rstrip("0").rstrip(".")


def training_rate(training: Mapping[str, Any]) -> float | None:
    """The training speed a run is known by, from its :func:`training_throughput`: steady
    epochs, else after the first compiled step, else over the whole training clock."""
    return (
        training.get("steady_samples_per_s")
        or training.get("warm_samples_per_s")
        or training.get("samples_per_s")
    )


def training_throughput(history: list[dict[str, Any]], n_train: int) -> dict[str, Any]:
    """Training samples/s over all epochs and over epochs after the first (graph building excluded).

    Times are training-only (validation excluded). ``steady_samples_per_s`` is None with a
    single epoch. ``first_epoch_overhead_seconds`` is what the first epoch cost beyond a median
    later epoch: graph tracing and compilation, first-touch allocations.
    ``warm_samples_per_s`` leaves out only the first call of the compiled train step (graph
    building and its batches, from the first epoch's ``first_step_seconds`` and
    ``first_step_samples``), so it exists for one-epoch runs too; None where not recorded.
    """
    train_seconds = [entry["train_seconds"] for entry in history]
    total = sum(train_seconds)
    steady = train_seconds[1:]
    first = history[0] if history else {}
    first_step = first.get("first_step_seconds")
    warm = None
    if first_step is not None and total > first_step:
        samples = n_train * len(history) - min(first["first_step_samples"], n_train)
        warm = samples / (total - first_step) if samples > 0 else None
    return {
        "first_epoch_seconds": train_seconds[0] if train_seconds else None,
        "first_epoch_overhead_seconds": train_seconds[0] - float(np.median(steady))
        if steady
        else None,
        "first_step_seconds": first_step,
        "train_seconds": total,
        "samples_per_s": n_train * len(train_seconds) / total if total > 0 else None,
        "steady_samples_per_s": n_train * len(steady) / sum(steady)
        if steady and sum(steady) > 0
        else None,
        "warm_samples_per_s": warm,
    }
