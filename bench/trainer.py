"""The shared trainer: one :class:`RunSpec` in, one run record (a plain dict) out.

The same function serves every model family (through :mod:`bench.adapters`) and every
executor: it touches no files and no global state beyond seeding the random generators.
Any exception inside a run becomes a ``failed`` record that says why.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import numpy as np

from bench.adapters import FitResult, make_adapter
from bench.data import Dataset, load_dataset
from bench.environment import collect_environment, cpu_flags
from bench.flops import efficiency
from bench.metrics import classification_metrics
from bench.peak import matmul_peak
from bench.records import SCHEMA_VERSION
from bench.registry import get_model
from bench.runspec import RunSpec
from bench.tfquiet import import_tensorflow
from bench.timing import (
    measure_batch_throughput,
    measure_latency,
    time_to_accuracy,
    training_throughput,
)

LATENCY_IMAGES = 500
BFLOAT16_FLAGS = {"avx512_bf16", "amx_bf16"}  # CPUs worth a bfloat16 peak probe
THROUGHPUT_REPEATS = 5


def seed_everything(seed: int, family: str, deterministic: bool) -> None:
    """Seed Python, NumPy and (for Keras) the backend; optionally make TF ops deterministic."""
    random.seed(seed)
    np.random.seed(seed)
    if family == "keras":
        tf = import_tensorflow()
        import keras

        keras.utils.set_random_seed(seed)
        if deterministic:
            tf.config.experimental.enable_op_determinism()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def execute_run(
    run: RunSpec,
    dataset: Dataset | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train, evaluate and time one run; return its record (status ``ok`` or ``failed``)."""
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "status": "failed",
        **run.identity(),
        "config": dict(run.config),
        "run": run.to_dict(),
        "started_at": _now(),
        "error": None,
    }
    try:
        _train_and_measure(run, dataset, on_epoch, record)
        record["status"] = "ok" if record["error"] is None else "failed"
    except Exception as error:  # one failing model must not stop the others
        record["error"] = {
            "type": type(error).__name__,
            "message": str(error),
            "traceback": traceback.format_exc(),
        }
    record["finished_at"] = _now()
    record["environment"] = collect_environment()
    return record


def _train_and_measure(
    run: RunSpec,
    dataset: Dataset | None,
    on_epoch: Callable[[dict[str, Any]], None] | None,
    record: dict[str, Any],
) -> None:
    spec = get_model(run.model)
    record["family"] = spec.family
    data = dataset if dataset is not None else load_dataset(run.dataset, run.data_dir)
    record["dataset_info"] = data.metadata()
    x_train, y_train = data.x_train[: run.limit_train], data.y_train[: run.limit_train]
    x_test, y_test = data.x_test[: run.limit_test], data.y_test[: run.limit_test]
    record["n_train"], record["n_test"] = int(len(x_train)), int(len(x_test))

    # The matmul peak probes run before training, in this process; they land in the environment.
    peak = matmul_peak()["gflops"] if spec.family == "keras" else None
    if spec.family == "keras" and BFLOAT16_FLAGS & set(cpu_flags()):
        matmul_peak("bfloat16")
    seed_everything(run.seed, spec.family, run.deterministic)
    x_train_in = spec.preprocess(x_train)
    x_test_in = spec.preprocess(x_test)
    adapter = make_adapter(
        spec, dict(run.config), tuple(x_train_in.shape[1:]), data.num_classes, seed=run.seed
    )
    fit: FitResult = adapter.fit(x_train_in, y_train, x_test_in, y_test, on_epoch)
    record["history"] = fit.history
    record["parameters"] = adapter.parameter_count()
    if fit.failure:
        record["error"] = {"type": "NonFiniteLoss", "message": fit.failure, "traceback": None}
        return

    proba = adapter.predict_proba(x_test_in)
    predictions = proba.argmax(axis=1)
    record["metrics"] = classification_metrics(y_test, predictions, data.num_classes)
    record["predictions"] = predictions.astype(int).tolist()
    record["test_labels"] = np.asarray(y_test).astype(int).tolist()
    timings: dict[str, Any] = {
        "fit_seconds": fit.fit_seconds,
        "training": training_throughput(fit.history, len(x_train)),
        "time_to_accuracy": time_to_accuracy(fit.history),
        "time_to_accuracy_wall": time_to_accuracy(fit.history, clock="elapsed_seconds"),
        "inference": measure_batch_throughput(
            adapter.predict_proba, x_test_in, repeats=THROUGHPUT_REPEATS
        ),
        "latency": measure_latency(adapter.predict_one, x_test_in, n=LATENCY_IMAGES),
        "method": adapter.inference_method,
    }
    record["timings"] = timings
    flops = adapter.flop_count()
    if flops is not None:
        record["flops"] = flops.to_dict()
        training = timings["training"]
        timings["efficiency"] = efficiency(
            flops,
            training["steady_samples_per_s"]
            or training["warm_samples_per_s"]
            or training["samples_per_s"],
            timings["inference"]["samples_per_s"],
            peak,
        )
