"""The shared trainer: one :class:`RunSpec` in, one :class:`RunRecord` out.

The same function serves every model family (through :mod:`bench.models.family`) and every
executor. It writes no files: the executor hands the record (and the probabilities it carries)
to the store. Any exception inside a run becomes a ``failed`` record that says why.

The protocol: the model trains on the training images minus a fixed, stratified validation
split; every per-epoch number, the time-to-accuracy checks and any model choice see only that
split; the test set is predicted once, after training. A preset whose config sets
``validate_on="test"`` reproduces a tutorial that validated on the test set instead, and its
records say so (they are reported apart from the race).

Time-to-accuracy checks the validation split about ``CHECKS_PER_RUN`` times per run (at
least once per epoch), off the training clock.

Clocks: ``train_seconds`` is time inside training (input setup and graph building included,
validation checks excluded); ``eval_seconds`` is validation checks plus the one test-set
prediction; ``wall_seconds`` is the whole run. ``phases`` splits the wall time into data,
build, train, evaluate and measure.
"""

from __future__ import annotations

import math
import random
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import numpy as np

from bench.core.errors import BenchError
from bench.core.spec import OUR_CORRUPTIONS, RunSpec
from bench.data import Dataset, get_entry, load_dataset
from bench.data.corrupted import load_corrupted_suite
from bench.data.corruptions import VERSION as CORRUPTIONS_VERSION
from bench.data.mnist_c import load_mnist_c_folder
from bench.data.split import validation_split
from bench.measure import calibration
from bench.measure.calibration import reliability_bins
from bench.measure.environment import collect_environment
from bench.measure.flops import efficiency
from bench.measure.memory import RunMemory
from bench.measure.metrics import classification_metrics, compute_metrics
from bench.measure.peak import load_probe, matmul_peak
from bench.measure.robustness_eval import evaluate_corruptions
from bench.measure.timing import (
    measure_batch_throughput,
    measure_latency,
    time_to_accuracy,
    training_throughput,
)
from bench.models.family import Adapter, FitResult, adapter_class
from bench.models.registry import ModelSpec, get_model
from bench.results.store.record import RunError, RunRecord
from bench.run.backends import backend_problem
from bench.run.config import overridden_keys
from bench.run.fingerprint import code_info

LATENCY_IMAGES = 500
THROUGHPUT_REPEATS = 5
CHECKS_PER_RUN = 10
VALIDATE_ON_TEST = "test"
CORRUPTION_SEED = 0


class NonFiniteLoss(ArithmeticError):
    """Training produced a NaN or infinite loss."""


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string (microseconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def seed_everything(seed: int) -> None:
    """Seed Python's and NumPy's global generators (frameworks seed themselves on top)."""
    random.seed(seed)
    np.random.seed(seed)


class _Phases:
    """Wall-clock seconds per phase of a run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()
        self._start = self._mark

    def end(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._mark
        self._mark = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self._start


def execute_run(
    run: RunSpec,
    dataset: Dataset | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> RunRecord:
    """Train, evaluate and time one run; return its record (status ``ok`` or ``failed``)."""
    started_at = now_iso()
    partial: dict[str, Any] = {}
    try:
        return _train_and_measure(run, dataset, on_epoch, started_at, partial)
    except Exception as error:  # one failing model must not stop the others
        environment = collect_environment()
        if "framework" in partial:
            environment["framework"] = partial.pop("framework")
        return RunRecord.failed(
            run,
            RunError(type(error).__name__, str(error), traceback.format_exc()),
            started_at=started_at,
            finished_at=now_iso(),
            environment=environment,
            **partial,
        )


def _train_and_measure(
    run: RunSpec,
    dataset: Dataset | None,
    on_epoch: Callable[[dict[str, Any]], None] | None,
    started_at: str,
    partial: dict[str, Any],
) -> RunRecord:
    phases = _Phases()
    memory = RunMemory.start()
    spec = get_model(run.model)
    partial["family"] = spec.family
    partial["model_info"] = model_info(spec)
    partial["model_info"]["overridden"] = overridden_keys(spec, run.preset, run.config)
    partial["code"] = code_info(spec)
    machine_load = load_probe()
    data = dataset if dataset is not None else load_dataset(run.dataset, run.data_dir)
    entry = get_entry(run.dataset)
    validate_on = run.config.get("validate_on", "holdout")
    if validate_on == VALIDATE_ON_TEST:
        x_train, y_train = data.x_train[: run.limit_train], data.y_train[: run.limit_train]
        x_val, y_val = data.x_test[: run.limit_test], data.y_test[: run.limit_test]
        split_info: dict[str, Any] = {"n": int(len(x_val)), "protocol": "test-as-validation"}
    else:
        split = validation_split(data.x_train, data.y_train, entry.validation_size)
        x_train, y_train = split.x_train[: run.limit_train], split.y_train[: run.limit_train]
        x_val, y_val = split.x_val, split.y_val
        split_info = {**split.describe(), "protocol": "holdout"}
    x_test, y_test = data.x_test[: run.limit_test], data.y_test[: run.limit_test]
    partial["dataset_info"] = {
        **data.metadata(),
        "title": entry.display_name,
        "accuracy_targets": list(entry.accuracy_targets),
        "validation": split_info,
        "protocol": split_info["protocol"],
    }
    partial.update(n_train=int(len(x_train)), n_val=int(len(x_val)), n_test=int(len(x_test)))
    check_image_size(spec, data.image_shape)
    x_train_in, x_val_in = spec.preprocess(x_train), spec.preprocess(x_val)
    x_test_in = spec.preprocess(x_test)
    phases.end("data")

    wrong_backend = backend_problem(spec.family, run.backend)
    if wrong_backend:
        raise BenchError(wrong_backend)
    adapter_type = adapter_class(spec)
    seed_everything(run.seed)
    adapter_type.seed_framework(run.seed, run.deterministic)
    adapter = adapter_type(spec, dict(run.config), tuple(x_train_in.shape[1:]), data.num_classes)
    partial["framework"] = framework_info(adapter_type, adapter)
    partial["parameters"] = adapter.parameter_count()
    phases.end("build")

    fit: FitResult = adapter.fit(
        x_train_in, y_train, x_val_in, y_val, on_epoch, checks_per_epoch(run.config)
    )
    partial.update(history=fit.history, checks=fit.checks, notes=list(fit.notes))
    phases.end("train")
    if fit.failure:
        raise NonFiniteLoss(fit.failure)

    test_start = time.perf_counter()
    test_proba = adapter.predict_proba(x_test_in)
    test_seconds = time.perf_counter() - test_start
    val_proba = adapter.predict_proba(x_val_in)
    predictions = test_proba.argmax(axis=1)
    metrics = {
        **classification_metrics(y_test, predictions, data.num_classes),
        **compute_metrics(y_test, test_proba),
        "reliability": reliability_bins(test_proba, y_test).to_dict(),
    }
    phases.end("evaluate")

    robustness = None
    if run.robustness:
        robustness = evaluate_robustness(adapter, spec, data, run)
        phases.end("robustness")
    timings, flops, peaks = _speed(adapter, run.config, fit, x_test_in, len(x_train))
    timings["load_probe"] = machine_load
    phases.end("measure")
    timings["clocks"] = {
        "train_seconds": fit.train_seconds,
        "eval_seconds": fit.check_seconds + test_seconds,
        "wall_seconds": phases.total,
        "fit_seconds": fit.fit_seconds,
    }
    timings["phases"] = phases.seconds
    timings["time_to_accuracy"] = time_to_accuracy(fit.checks, entry.accuracy_targets)
    timings["memory"] = memory.summary()
    timings["peak_rss_mb"] = timings["memory"]["peak_rss_mb"]
    framework = partial.pop("framework")
    return RunRecord(
        run=run,
        status="ok",
        started_at=started_at,
        finished_at=now_iso(),
        environment={**collect_environment(peaks), "framework": framework},
        flops=flops,
        metrics=metrics,
        predictions=predictions.astype(int).tolist(),
        test_labels=np.asarray(y_test).astype(int).tolist(),
        timings=timings,
        robustness=robustness,
        probability_arrays={"val": val_proba, "test": test_proba},
        **partial,
    )


def _speed(
    adapter: Adapter,
    config: dict[str, Any],
    fit: FitResult,
    x_test_in: np.ndarray,
    n_train: int,
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    """Throughput, latency, FLOPs and efficiency against this process's matmul peak.

    Returns the timings, the FLOP count and the matmul peaks (None where not counted).
    """
    timings: dict[str, Any] = {
        "training": training_throughput(fit.history, n_train),
        # the test-set prediction made just before is the untimed warm-up pass: one more
        # would cost slow models (k-NN, SVM) a whole pass over the test set for nothing
        "inference": measure_batch_throughput(
            adapter.predict_proba, x_test_in, repeats=THROUGHPUT_REPEATS, warmup=0
        ),
        "latency": measure_latency(adapter.predict_one, x_test_in, n=LATENCY_IMAGES),
        "method": adapter.inference_method,
    }
    flops = adapter.flop_count()
    if flops is None:
        return timings, None, None
    probe_start = time.perf_counter()
    # The peak of the library and device the model ran on, where the adapter measures it.
    probe = getattr(adapter, "matmul_peak", matmul_peak)
    peaks = {"float32": probe("float32")}
    if str(config.get("precision", "")).endswith("bfloat16"):  # run's config: presets too
        peaks["bfloat16"] = probe("bfloat16")
    timings["peak_probe_seconds"] = time.perf_counter() - probe_start
    training = timings["training"]
    samples_per_s = (
        training["steady_samples_per_s"]
        or training["warm_samples_per_s"]
        or training["samples_per_s"]
    )
    timings["efficiency"] = efficiency(
        flops, samples_per_s, timings["inference"]["samples_per_s"], peaks["float32"]["gflops"]
    )
    return timings, flops.to_dict(), peaks


def evaluate_robustness(
    adapter: Adapter, spec: ModelSpec, data: Dataset, run: RunSpec
) -> dict[str, Any]:
    """Accuracy, log-loss and ECE on each corrupted copy of the test set.

    ``run.robustness`` is ``"ours"`` (our MNIST-C corruptions, computed once and cached) or
    the folder of the published MNIST-C files. A model declaring ``robustness_subset`` is
    scored on that fixed, stratified subset of each corrupted set.
    """
    start = time.perf_counter()
    if run.robustness == OUR_CORRUPTIONS:
        suite = load_corrupted_suite(data, seed=CORRUPTION_SEED)
        source = f"our MNIST-C corruptions, version {CORRUPTIONS_VERSION}, seed {CORRUPTION_SEED}"
    else:
        suite = load_mnist_c_folder(str(run.robustness))
        source = f"MNIST-C files from {run.robustness}"
    corrupted = {name: item.images[: run.limit_test] for name, item in suite.items()}
    labels = next(iter(suite.values())).labels[: run.limit_test]
    scores = evaluate_corruptions(
        adapter.predict_proba, spec.preprocess, corrupted, labels, subset=spec.robustness_subset
    )
    per_corruption = {}
    for name, accuracy in scores.accuracy.items():
        proba = scores.probabilities[name]
        per_corruption[name] = {
            "accuracy": accuracy,
            "log_loss": calibration.log_loss(proba, scores.labels),
            "ece": calibration.expected_calibration_error(proba, scores.labels),
            "n": int(len(scores.labels)),
        }
    return {
        "corruptions": per_corruption,
        "subset": spec.robustness_subset,
        "source": source,
        "seconds": time.perf_counter() - start,
    }


def framework_info(adapter_type: Any, adapter: Adapter) -> dict[str, Any]:
    """The framework the run trained with: versions (and Keras backend), plus what the adapter
    says about its runtime (device, threads, input pipeline), for the record's environment."""
    runtime = getattr(adapter, "runtime_info", None)
    return {**adapter_type.framework_versions(), **(runtime() if runtime else {})}


def checks_per_epoch(config: dict[str, Any]) -> int:
    """Validation checks per epoch: about ``CHECKS_PER_RUN`` over the run, at least one per
    epoch (10 per epoch for a one-epoch model, 2 per epoch for a nine-epoch one)."""
    return max(1, math.ceil(CHECKS_PER_RUN / max(1, int(config.get("epochs", 1)))))


def model_info(spec: ModelSpec) -> dict[str, Any]:
    """What the leaderboard shows about a model beside its numbers."""
    reference = spec.reference
    return {
        "description": spec.description,
        "tuning": spec.tuning,
        "deterministic": spec.deterministic,
        "reference": None if reference is None else vars(reference).copy(),
    }


def check_image_size(spec: ModelSpec, image_shape: tuple[int, int]) -> None:
    """Refuse images smaller than the model's declared minimum, naming both."""
    minimum = spec.min_image_size
    if minimum is not None and min(image_shape) < minimum:
        raise ValueError(
            f"model {spec.name!r} needs images of at least {minimum}x{minimum} pixels; "
            f"this dataset's are {image_shape[0]}x{image_shape[1]}"
        )
