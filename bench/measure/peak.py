"""This machine's matrix-multiply peak, measured by a short probe in the running process.

Achieved GFLOP/s means little without the machine's own ceiling beside it: the CPUs these
benchmarks meet differ from session to session (2-core AMD EPYC at about 160 GFLOP/s float32,
2-core Intel Xeon with AMX at about 330). The probe times a compiled TensorFlow ``matmul`` of
two square matrices, warm, with the process's own thread settings, and keeps the best of a few
repeats (other processes on the machine can only slow a repeat down, never speed it up).

The result is cached for the life of the process: :func:`matmul_peak` measures once per
dtype. :func:`load_probe` is a different, cheaper measurement taken at the start of every run:
a NumPy matmul whose speed, compared across the runs of a sweep, shows when the machine was
busy with something else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.core.tfquiet import import_tensorflow

PROBE_SIZE = 1024
PROBE_REPEATS = 10
_CACHE: dict[str, dict[str, Any]] = {}


def best_of(run: Callable[[], Any], repeats: int, warmup: int = 2) -> tuple[float, float]:
    """Best and median seconds of ``repeats`` timed calls of ``run`` after ``warmup`` untimed
    ones (the first call allocates, compiles or picks kernels)."""
    for _ in range(warmup):
        run()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return min(seconds), sorted(seconds)[len(seconds) // 2]


def peak_summary(
    dtype: str, size: int, repeats: int, best: float, median: float, how: str
) -> dict[str, Any]:
    """A probe's record entry: GFLOP/s of the best and the median repeat of a square matmul."""
    flops = 2.0 * size**3
    return {
        "dtype": dtype,
        "size": size,
        "repeats": repeats,
        "gflops": flops / best / 1e9,
        "gflops_median": flops / median / 1e9,
        "method": f"best of {repeats} warm {how} of two {size}x{size} {dtype} matrices",
    }


def _probe(dtype_name: str, size: int, repeats: int) -> dict[str, Any]:
    tf = import_tensorflow()
    dtype = getattr(tf, dtype_name)
    a = tf.random.stateless_uniform((size, size), seed=(1, 2), dtype=tf.float32)
    b = tf.random.stateless_uniform((size, size), seed=(3, 4), dtype=tf.float32)
    a, b = tf.cast(a, dtype), tf.cast(b, dtype)
    matmul = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    best, median = best_of(lambda: matmul(a, b).numpy(), repeats)
    return peak_summary(dtype_name, size, repeats, best, median, "tf.matmul")


def matmul_peak(
    dtype: str = "float32", size: int = PROBE_SIZE, repeats: int = PROBE_REPEATS
) -> dict[str, Any]:
    """Measure (once per process and dtype) the matmul peak in GFLOP/s; return its summary.

    Example
    -------
    >>> matmul_peak()["gflops"]  # doctest: +SKIP
    163.2
    """
    if dtype not in _CACHE:
        _CACHE[dtype] = _probe(dtype, size, repeats)
    return dict(_CACHE[dtype])


LOAD_PROBE_SIZE = 512
LOAD_PROBE_REPEATS = 7


def load_probe(size: int = LOAD_PROBE_SIZE, repeats: int = LOAD_PROBE_REPEATS) -> dict[str, Any]:
    """GFLOP/s of a float32 NumPy matmul right now (best of ``repeats``; about 0.1 s).

    A run whose probe is far below its sweep's median ran on a busy machine.
    """
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    a @ b  # warm the BLAS threads
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        seconds.append(time.perf_counter() - start)
    return {
        "gflops": 2.0 * size**3 / min(seconds) / 1e9,
        "method": f"best of {repeats} NumPy float32 matmuls of {size}x{size}",
    }
