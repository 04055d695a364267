"""Fixtures for the speed benchmarks: real MNIST, one prepared model per registered name.

The suite runs two ways:

* ``pytest --benchmark-only`` (or ``tox -e bench``): calibrated, warmed-up rounds on the full
  10,000-image test set; the JSON goes where ``--benchmark-json``/``--benchmark-autosave`` say,
  and ``python -m bench benchmarks`` renders the newest one into ``results/BENCHMARKS.md``.
* ``pytest tests/benchmarks -o addopts="" --benchmark-disable`` (CI): every body runs once on
  smaller inputs, so the suite cannot rot without a test failing.

The machine's float32 matmul peak (:mod:`bench.measure.peak`) and CPU model go into the JSON's
``machine_info``, so every saved file says what it was measured on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.core.errors import BenchError
from bench.data import Dataset, load_dataset
from bench.measure.environment import usable_cores

MNIST_MIRROR = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
PREPARE_TRAIN_IMAGES = 1024  # what a model is fitted on before its inference is timed
QUICK_TEST_IMAGES = 1000  # the test-set slice used when benchmarks are disabled (CI)
SKLEARN_FIT_IMAGES = 2000


def quick_mode(config: pytest.Config) -> bool:
    """True when the benchmark bodies run once as plain tests (``--benchmark-disable``)."""
    return bool(config.getoption("benchmark_disable")) and not config.getoption("benchmark_enable")


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Name the CPU and this process's measured matmul peak in every saved JSON."""
    from bench.measure.environment import cpu_flags, cpu_model
    from bench.measure.peak import matmul_peak

    machine_info["cpu_model"] = cpu_model()
    machine_info["cpu_flags"] = cpu_flags()
    machine_info["usable_cores"] = usable_cores()
    machine_info["matmul_peak"] = matmul_peak()
    if {"avx512_bf16", "amx_bf16"} & set(cpu_flags()):
        machine_info["matmul_peak_bfloat16"] = matmul_peak("bfloat16")


@pytest.fixture(scope="session")
def quick(pytestconfig: pytest.Config) -> bool:
    """Whether this is the one-pass CI mode."""
    return quick_mode(pytestconfig)


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    """Real MNIST from MNIST_BENCH_MIRROR, the shared mirror beside the checkout, or the cache."""
    folder = os.environ.get("MNIST_BENCH_MIRROR") or (
        str(MNIST_MIRROR) if MNIST_MIRROR.is_dir() else None
    )
    try:
        return load_dataset("mnist", folder)
    except BenchError as error:
        pytest.skip(f"MNIST is not available here ({error}); set MNIST_BENCH_MIRROR")


@pytest.fixture(scope="session")
def peak_gflops() -> float:
    """This process's float32 matmul peak (measured once, before any model is timed)."""
    from bench.measure.peak import matmul_peak

    return float(matmul_peak()["gflops"])


@dataclass
class PreparedModel:
    """A registered model built, fitted on a small slice, and ready to be timed."""

    name: str
    family: str
    config: dict[str, Any]
    adapter: Any
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    forward_flops: int | None

    @property
    def batch_size(self) -> int | None:
        """The model's own training batch size (Keras models only)."""
        value = self.config.get("batch_size")
        return None if value is None else int(value)


@pytest.fixture(scope="session")
def prepared(mnist: Dataset, quick: bool) -> Callable[[str], PreparedModel]:
    """Return a function ``name -> PreparedModel``, building each model once per session."""
    from bench.models.family import adapter_class, make_adapter
    from bench.models.registry import get_model
    from bench.run.trainer import seed_everything

    cache: dict[str, PreparedModel] = {}
    n_test = QUICK_TEST_IMAGES if quick else len(mnist.x_test)

    def prepare(name: str) -> PreparedModel:
        if name in cache:
            return cache[name]
        spec = get_model(name)
        config = dict(spec.config)
        if "epochs" in config:
            config["epochs"] = 1
        seed_everything(0)
        adapter_class(spec).seed_framework(0, False)
        if spec.family == "keras":
            n_fit = max(PREPARE_TRAIN_IMAGES, int(config["batch_size"]))
        else:
            n_fit = SKLEARN_FIT_IMAGES
        x_train = spec.preprocess(mnist.x_train[:n_fit])
        y_train = mnist.y_train[:n_fit]
        x_test = spec.preprocess(mnist.x_test[:n_test])
        adapter = make_adapter(spec, config, tuple(x_train.shape[1:]), mnist.num_classes)
        adapter.fit(x_train, y_train, x_test[:256], mnist.y_test[:256])
        flops = adapter.flop_count()
        cache[name] = PreparedModel(
            name=name,
            family=spec.family,
            config=config,
            adapter=adapter,
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            y_test=mnist.y_test[:n_test],
            forward_flops=None if flops is None else flops.forward,
        )
        return cache[name]

    return prepare
