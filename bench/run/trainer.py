"""The shared trainer: one :class:`RunSpec` in, one :class:`RunRecord` out.

The same function serves every model family (through :mod:`bench.models.family`) and every
executor. It writes no files: the executor hands the record (and the probabilities it carries)
to the store. Any exception inside a run becomes a ``failed`` record that says why.

The protocol: the model trains on the training images minus a fixed, stratified validation
split; every per-epoch number, the time-to-accuracy checks and any model choice see only that
split; the test set is predicted once, after training. A preset whose config sets
``validate_on="test"`` reproduces a tutorial that validated on the test set instead, and its
records say so (they are reported apart from the race).

Time-to-accuracy checks the validation split every ``CHECK_EVERY_IMAGES`` training images
(and at each epoch's end), the same points for every model whatever its epoch count, off the
training clock.

A ``bench tune`` trial (``run.tuning``) never sees the test set: it stops after the fit phase,
scored on its last validation check. ``--save-model`` adds a last phase that keeps the model
and its ONNX export, checked and timed beside the native figures.

Clocks: ``train_seconds`` is time inside training (input setup and graph building included,
validation checks excluded); ``eval_seconds`` is validation checks plus the one test-set
prediction; ``wall_seconds`` is the whole run. ``phases`` splits the wall time into data,
build, train, evaluate, robustness and measure: the run's phases (split, build, fit, evaluate,
robustness, measure; see :func:`run_phases`), each a function returning its values.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

import numpy as np

from bench.core.errors import BenchError
from bench.core.randomness import RunRandom
from bench.core.spec import OUR_CORRUPTIONS, RunSpec
from bench.data import Dataset, get_entry, load_dataset
from bench.data.corrupted import load_corrupted_suite
from bench.data.corruptions import VERSION as CORRUPTIONS_VERSION
from bench.data.mnist_c import load_mnist_c_folder
from bench.data.registry import DatasetEntry
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
    training_rate,
    training_throughput,
)
from bench.models.family import Adapter, FitResult, adapter_class
from bench.models.keep import Keepable, keep_model
from bench.models.registry import get_model
from bench.models.spec import ModelSpec
from bench.results.store.files import PROBABILITY_DTYPE
from bench.results.store.record import RunError, RunRecord
from bench.run.backends import backend_problem
from bench.run.config import overridden_keys
from bench.run.fingerprint import code_info
from bench.run.library_warnings import counted_warnings
from bench.run.trial import STOP_AT_EPOCHS, StepCap, TrialControl, TrialPlan

LATENCY_IMAGES = 500
THROUGHPUT_REPEATS = 5
CHECK_EVERY_IMAGES = 5_000
VALIDATE_ON_TEST = "test"
CORRUPTION_SEED = 0


class NonFiniteLoss(ArithmeticError):
    """Training produced a NaN or infinite loss."""


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string (microseconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class _Clock:
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


# --- what each phase returns ----------------------------------------------------------------
# Each phase returns a frozen value; ``record_fields`` is what it adds to the run's record, so
# a failed run's record holds exactly what the phases before the failure produced.


@dataclass(frozen=True)
class ModelFacts:
    """What the registry says about the model (known before any phase runs)."""

    spec: ModelSpec
    run: RunSpec

    def record_fields(self) -> dict[str, Any]:
        info = model_info(self.spec)
        info["overridden"] = overridden_keys(self.spec, self.run.preset, self.run.config)
        return {"family": self.spec.family, "model_info": info, "code": code_info(self.spec)}


@dataclass(frozen=True)
class Split:
    """The ``split`` phase: training, validation and test images, preprocessed for the model."""

    data: Dataset
    entry: DatasetEntry
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    dataset_info: dict[str, Any]

    def record_fields(self) -> dict[str, Any]:
        return {
            "dataset_info": self.dataset_info,
            "n_train": int(len(self.x_train)),
            "n_val": int(len(self.x_val)),
            "n_test": int(len(self.x_test)),
        }


@dataclass(frozen=True)
class Built:
    """The ``build`` phase: the model in its family's adapter, and the framework it runs on."""

    adapter: Adapter
    framework: dict[str, Any]
    parameters: int | None

    def record_fields(self) -> dict[str, Any]:
        return {"parameters": self.parameters}


@dataclass(frozen=True)
class Fitted:
    """The ``fit`` phase: what training produced."""

    fit: FitResult

    def record_fields(self) -> dict[str, Any]:
        return {
            "history": [entry.to_dict() for entry in self.fit.history],
            "checks": self.fit.checks,
            "notes": list(self.fit.notes),
        }


@dataclass(frozen=True)
class Evaluated:
    """The ``evaluate`` phase: the one prediction of the test set, and its metrics."""

    metrics: dict[str, Any]
    predictions: np.ndarray
    test_labels: np.ndarray
    val_proba: np.ndarray
    test_proba: np.ndarray
    test_seconds: float

    def record_fields(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "predictions": self.predictions.astype(int).tolist(),
            "test_labels": self.test_labels.astype(int).tolist(),
            "probability_arrays": {"val": self.val_proba, "test": self.test_proba},
        }


@dataclass(frozen=True)
class Scored:
    """The ``robustness`` phase: scores on the corrupted test sets."""

    robustness: dict[str, Any]

    def record_fields(self) -> dict[str, Any]:
        return {"robustness": self.robustness}


@dataclass(frozen=True)
class Measured:
    """The ``measure`` phase: speed, FLOPs and the matmul peaks they are set against."""

    timings: dict[str, Any]
    flops: dict[str, Any] | None
    peaks: dict[str, Any] | None

    def record_fields(self) -> dict[str, Any]:
        return {"timings": self.timings, "flops": self.flops}


@dataclass(frozen=True)
class Kept:
    """The ``save_model`` phase (``--save-model``): the model's files and what the record says
    of them (hashes, the ONNX export's agreement and ONNX Runtime speed)."""

    saved_model: dict[str, Any]
    model_files: dict[str, bytes]

    def record_fields(self) -> dict[str, Any]:
        return {"saved_model": self.saved_model, "model_files": self.model_files}


@dataclass(frozen=True)
class TrialScored:
    """A tuning trial's last phase: its score on the validation split and its clocks (no
    test-set prediction, no speed measurements)."""

    metrics: dict[str, Any]
    timings: dict[str, Any]

    def record_fields(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "timings": self.timings}


PhaseResult = (
    ModelFacts | Split | Built | Fitted | Evaluated | Scored | Measured | Kept | TrialScored
)


def execute_run(
    run: RunSpec,
    dataset: Dataset | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> RunRecord:
    """Train, evaluate and time one run; return its record (status ``ok`` or ``failed``).

    The phases run in order, each returning its values; a run that fails keeps in its record
    what the phases that finished returned. Each distinct library warning of the run is
    printed once, with its count, at the end."""
    with counted_warnings():
        return _execute(run, dataset, on_epoch)


def _execute(
    run: RunSpec,
    dataset: Dataset | None,
    on_epoch: Callable[[dict[str, Any]], None] | None,
) -> RunRecord:
    started_at = now_iso()
    finished: list[PhaseResult] = []
    try:
        for result in run_phases(run, dataset, on_epoch):
            finished.append(result)
    except Exception as error:  # one failing model must not stop the others
        return RunRecord.failed(
            run,
            RunError(type(error).__name__, str(error), traceback.format_exc()),
            started_at=started_at,
            finished_at=now_iso(),
            environment=_environment(finished),
            **_record_fields(finished),
        )
    return RunRecord(
        run=run,
        status="ok",
        started_at=started_at,
        finished_at=now_iso(),
        environment=_environment(finished),
        **_record_fields(finished),
    )


def _record_fields(finished: list[PhaseResult]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for result in finished:
        fields.update(result.record_fields())
    return fields


def _environment(finished: list[PhaseResult]) -> dict[str, Any]:
    """This machine, the framework the model was built on and the peaks measured, where known."""
    peaks = next((r.peaks for r in finished if isinstance(r, Measured)), None)
    environment = collect_environment(peaks)
    built = next((r for r in finished if isinstance(r, Built)), None)
    if built is not None:
        environment["framework"] = built.framework
    return environment


def run_phases(
    run: RunSpec,
    dataset: Dataset | None,
    on_epoch: Callable[[dict[str, Any]], None] | None,
) -> Iterator[PhaseResult]:
    """The phases of one run, each result handed out as soon as its phase has finished:
    split, build, fit, evaluate, robustness (when asked for), measure and save_model (when
    asked for); a tuning trial stops after fit."""
    clock = _Clock()
    memory = RunMemory.start()
    spec = get_model(run.model)
    yield ModelFacts(spec, run)
    machine_load = load_probe()
    trial = TrialControl(TrialPlan.from_dict(run.tuning)) if run.tuning else None
    control = trial or step_cap(run.config)
    split = split_phase(run, spec, dataset, with_test=trial is None)
    clock.end("data")
    yield split
    built = build_phase(run, spec, split)
    clock.end("build")
    yield built
    fitted = Fitted(
        built.adapter.fit(
            split.x_train,
            split.y_train,
            split.x_val,
            split.y_val,
            on_epoch,
            checks_per_epoch(len(split.y_train)) if trial is None else 1,
            **({} if control is None else {"control": control}),
        )
    )
    clock.end("train")
    yield fitted
    if fitted.fit.failure:
        raise NonFiniteLoss(fitted.fit.failure)
    if trial is not None:  # a tuning trial: scored on the validation split, nothing more
        yield trial_score(trial, fitted.fit, clock)
        return
    evaluated = evaluate_phase(built.adapter, split)
    clock.end("evaluate")
    yield evaluated
    if run.robustness:
        yield Scored(evaluate_robustness(built.adapter, spec, split.data, run))
        clock.end("robustness")
    timings, flops, peaks = _speed(
        built.adapter, run.config, fitted.fit, split.x_test, len(split.x_train)
    )
    clock.end("measure")
    timings["load_probe"] = machine_load
    kept = None
    if run.save_model:  # the model, its ONNX export, checked and timed beside the native figures
        kept = Kept(
            *keep_model(
                cast(Keepable, built.adapter),  # every family's adapter keeps its model
                split.x_test,
                evaluated.test_proba,
                timings,
                image_shape=split.data.image_shape,
                num_classes=split.data.num_classes,
                repeats=THROUGHPUT_REPEATS,
                latency_images=LATENCY_IMAGES,
            )
        )
        clock.end("save_model")
    timings["clocks"] = {
        "train_seconds": fitted.fit.train_seconds,
        "eval_seconds": fitted.fit.check_seconds + evaluated.test_seconds,
        "wall_seconds": clock.total,
        "fit_seconds": fitted.fit.fit_seconds,
    }
    timings["phases"] = clock.seconds
    timings["time_to_accuracy"] = time_to_accuracy(fitted.fit.checks, split.entry.accuracy_targets)
    timings["memory"] = memory.summary()
    timings["peak_rss_mb"] = timings["memory"]["peak_rss_mb"]
    yield Measured(timings, flops, peaks)
    if kept is not None:
        yield kept


def step_cap(config: dict[str, Any]) -> StepCap | None:
    """The step cap of a tuned preset whose best trial the budget cut (``stop_at_epochs``)."""
    epochs = config.get(STOP_AT_EPOCHS)
    return None if epochs is None else StepCap(epochs)


def trial_score(control: TrialControl, fit: FitResult, clock: _Clock) -> TrialScored:
    """A tuning trial's result: its last validation check is its score."""
    last = fit.checks[-1]
    stopped = next((entry.stopped for entry in fit.history if entry.stopped), None)
    stopped_at = fit.history[-1].stopped_at_epochs if fit.history else None
    metrics = {
        "val_accuracy": float(last["val_accuracy"]),
        "val_loss": float(last["val_loss"]),
        "trial": control.outcome(stopped, fit.train_seconds, stopped_at or last["epoch_fraction"]),
    }
    timings = {
        "clocks": {
            "train_seconds": fit.train_seconds,
            "eval_seconds": fit.check_seconds,
            "wall_seconds": clock.total,
            "fit_seconds": fit.fit_seconds,
        },
        "phases": clock.seconds,
    }
    return TrialScored(metrics, timings)


def split_phase(
    run: RunSpec, spec: ModelSpec, dataset: Dataset | None, *, with_test: bool = True
) -> Split:
    """Load the dataset, carve the validation split (or, for a tutorial's replication, take
    the test set as validation data), apply the limits and preprocess. Without ``with_test``
    (a tuning trial) the test slice is empty and never preprocessed."""
    data = dataset if dataset is not None else load_dataset(run.dataset, run.data_dir)
    entry = get_entry(run.dataset)
    if run.config.get("validate_on", "holdout") == VALIDATE_ON_TEST:
        x_train, y_train = data.x_train[: run.limit_train], data.y_train[: run.limit_train]
        x_val, y_val = data.x_test[: run.limit_test], data.y_test[: run.limit_test]
        split_info: dict[str, Any] = {"n": int(len(x_val)), "protocol": "test-as-validation"}
    else:
        split = validation_split(data.x_train, data.y_train, entry.validation_size)
        x_train, y_train = split.x_train[: run.limit_train], split.y_train[: run.limit_train]
        x_val, y_val = split.x_val, split.y_val
        split_info = {**split.describe(), "protocol": "holdout"}
    n_test = run.limit_test if with_test else 0
    x_test, y_test = data.x_test[:n_test], data.y_test[:n_test]
    dataset_info = {
        **data.metadata(),
        "title": entry.display_name,
        "accuracy_targets": list(entry.accuracy_targets),
        "validation": split_info,
        "protocol": split_info["protocol"],
    }
    return Split(
        data,
        entry,
        spec.preprocess(x_train),
        y_train,
        spec.preprocess(x_val),
        y_val,
        spec.preprocess(x_test) if with_test else x_test,
        y_test,
        dataset_info,
    )


def build_phase(run: RunSpec, spec: ModelSpec, split: Split) -> Built:
    """Check the model takes these images, seed what the framework keeps global, make the
    run's generators and build the model."""
    check_image_size(spec, split.data.image_shape)
    wrong_backend = backend_problem(spec.family, run.backend)
    if wrong_backend:
        raise BenchError(wrong_backend)
    adapter_type = adapter_class(spec)
    adapter_type.seed_framework(run.seed, run.deterministic)  # the framework's own globals
    shape = tuple(split.x_train.shape[1:])
    adapter = adapter_type(
        spec, dict(run.config), shape, split.data.num_classes, RunRandom.from_seed(run.seed)
    )
    return Built(adapter, framework_info(adapter_type, adapter), adapter.parameter_count())


def evaluate_phase(adapter: Adapter, split: Split) -> Evaluated:
    """Predict the test set once (timed) and the validation split; compute the metrics."""
    test_start = time.perf_counter()
    # metrics from exactly the array the record stores, so they recompute from its file
    test_proba = np.asarray(adapter.predict_proba(split.x_test), dtype=PROBABILITY_DTYPE)
    test_seconds = time.perf_counter() - test_start
    val_proba = np.asarray(adapter.predict_proba(split.x_val), dtype=PROBABILITY_DTYPE)
    predictions = test_proba.argmax(axis=1)
    metrics = {
        **classification_metrics(split.y_test, predictions, split.data.num_classes),
        **compute_metrics(split.y_test, test_proba),
        "reliability": reliability_bins(test_proba, split.y_test).to_dict(),
    }
    return Evaluated(
        metrics, predictions, np.asarray(split.y_test), val_proba, test_proba, test_seconds
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
        "training": training_throughput([entry.to_dict() for entry in fit.history], n_train),
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
    samples_per_s = training_rate(training)
    timings["efficiency"] = efficiency(
        flops, samples_per_s, timings["inference"]["samples_per_s"], peaks["float32"]["gflops"]
    )
    return timings, flops.to_dict(), peaks


def evaluate_robustness(
    adapter: Adapter, spec: ModelSpec, data: Dataset, run: RunSpec
) -> dict[str, Any]:
    """Accuracy, log-loss and ECE on each corrupted copy of the test set.

    ``run.robustness`` is ``"ours"`` (our MNIST-C corruptions, computed once and cached) or
    the folder of the published MNIST-C files. A model declaring ``robustness_subset`` (the
    run's copy of it) is scored on that fixed, stratified subset of each corrupted set.
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
    subset = scored_subset(run.robustness_subset, len(labels))
    scores = evaluate_corruptions(
        adapter.predict_proba, spec.preprocess, corrupted, labels, subset=subset
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
        "subset": subset,
        "source": source,
        "seconds": time.perf_counter() - start,
    }


def scored_subset(declared: int | None, n_test: int) -> int | None:
    """The subset size robustness scores: the declared one, or None (every image) when the
    test set is no larger than it (a small dataset, or ``--limit-test``)."""
    return declared if declared is not None and declared < n_test else None


def framework_info(adapter_type: Any, adapter: Adapter) -> dict[str, Any]:
    """The framework the run trained with: versions (and Keras backend), plus what the adapter
    says about its runtime (device, threads, input pipeline), for the record's environment."""
    runtime = getattr(adapter, "runtime_info", None)
    return {**adapter_type.framework_versions(), **(runtime() if runtime else {})}


def checks_per_epoch(n_train: int) -> int:
    """Validation checks per epoch: one per ``CHECK_EVERY_IMAGES`` training images, at least
    one (11 for MNIST's 55,000 training images, for every model: time to accuracy is read at
    the same image counts, within a batch, for a one-epoch and a nine-epoch model alike).

    Example
    -------
    >>> checks_per_epoch(55_000), checks_per_epoch(1_200)
    (11, 1)
    """
    return max(1, round(n_train / CHECK_EVERY_IMAGES))


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
