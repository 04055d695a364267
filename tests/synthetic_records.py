"""Schema-2 RunRecords for report tests, built without the trainer.

* :func:`make_record`: a record from labels, predictions and (optionally) probabilities, with
  its metrics computed by the project's own metric code, so every number in it is real.
* :func:`digits_records`: real scikit-learn fits on the digits set (a logistic regression,
  the same for every seed, and a small MLP trained epoch by epoch), seeds 0, 1, 2 by default.
* :func:`simulated_records`: many cheap records with chosen accuracies, for speed tests.

Imported by tests as ``from synthetic_records import ...`` (``tests/`` is on ``sys.path``
because ``tests/conftest.py`` lives there).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.core.spec import DEFAULT_BACKEND, RunSpec
from bench.measure.calibration import calibration_metrics, reliability_bins
from bench.measure.metrics import classification_metrics, label_metrics
from bench.results.store.record import RunRecord

TITLES = {"digits": "digits (8x8)", "mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
TARGETS = {
    "digits": [0.90, 0.95, 0.97],
    "mnist": [0.97, 0.98, 0.99, 0.992],
    "fashion_mnist": [0.85, 0.88, 0.90, 0.91],
}


def make_record(
    model: str,
    seed: int,
    labels: Sequence[int],
    predictions: Sequence[int],
    probabilities: np.ndarray | None = None,
    *,
    dataset: str = "digits",
    preset: str = "default",
    num_classes: int = 10,
    history: list[dict[str, Any]] | None = None,
    timings: dict[str, Any] | None = None,
    model_info: dict[str, Any] | None = None,
    protocol: str = "holdout",
    notes: Sequence[str] = (),
    robustness: dict[str, Any] | None = None,
    parameters: int | None = 1000,
    finished_at: str | None = None,
    config: dict[str, Any] | None = None,
    fast_metrics: bool = False,
    backend: str = DEFAULT_BACKEND,
) -> RunRecord:
    """An ok schema-2 record; metrics from ``bench.measure`` (or, with ``fast_metrics``, the
    same numbers from plain NumPy, for thousands of records)."""
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    metrics = (
        _fast_metrics(labels, predictions, num_classes)
        if fast_metrics
        else {
            **classification_metrics(labels, predictions, num_classes),
            **label_metrics(labels, predictions, num_classes),
        }
    )
    if probabilities is not None:
        calibration = calibration_metrics(probabilities, labels)
        metrics.update(
            log_loss=calibration["log_loss"],
            brier=calibration["brier_score"],
            ece=calibration["ece"],
            reliability=reliability_bins(probabilities, labels).to_dict(),
        )
    run = RunSpec(
        model=model,
        preset=preset,
        dataset=dataset,
        seed=seed,
        config=config or {"epochs": len(history or []) or 1},
        code_fingerprint="f" * 12,
        backend=backend,
    )
    info = {"tuning": "", "deterministic": False, "reference": None, "description": ""}
    return RunRecord(
        run=run,
        status="ok",
        started_at="2026-11-30T00:00:00+00:00",
        finished_at=finished_at or f"2026-11-30T01:{seed // 60:02d}:{seed % 60:02d}+00:00",
        environment={
            "hostname": "test",
            "cpu_model": "Test CPU",
            "libraries": {},
            "framework": {"backend": backend, backend: "9.9"},
        },
        family="sklearn",
        model_info={**info, **(model_info or {})},
        code={"model_fingerprint": "f" * 12, "harness_version": "test"},
        dataset_info={
            "name": dataset,
            "title": TITLES.get(dataset, ""),
            "class_names": [str(c) for c in range(num_classes)],
            "accuracy_targets": TARGETS.get(dataset, [0.9]),
            "protocol": protocol,
            "validation": {"n": 100, "protocol": protocol},
        },
        n_train=1000,
        n_val=100,
        n_test=len(labels),
        history=history or [],
        metrics=metrics,
        predictions=predictions.tolist(),
        test_labels=labels.tolist(),
        timings=timings or {},
        parameters=parameters,
        flops={"forward_per_sample": 2 * (parameters or 0)},
        robustness=robustness,
        notes=list(notes),
    )


def _fast_metrics(labels: np.ndarray, predictions: np.ndarray, k: int) -> dict[str, Any]:
    """Accuracy, macro F1, per-class scores and the confusion matrix from one bincount."""
    matrix = np.bincount(labels * k + predictions, minlength=k * k).reshape(k, k)
    right = np.diag(matrix).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(right / matrix.sum(axis=0))
        recall = np.nan_to_num(right / matrix.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return {
        "accuracy": float(right.sum() / len(labels)),
        "macro_f1": float(f1.mean()),
        "per_class": {
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "f1": f1.tolist(),
            "support": matrix.sum(axis=1).tolist(),
        },
        "confusion_matrix": matrix.tolist(),
        "n_test": int(len(labels)),
    }


def speed_timings(train_seconds: float, samples_per_s: float, peak: float) -> dict[str, Any]:
    """The timings block of a schema-2 record with the given clock, speed and probe peak."""
    return {
        "clocks": {
            "train_seconds": train_seconds,
            "eval_seconds": 0.1,
            "wall_seconds": train_seconds + 1,
        },
        "training": {"samples_per_s": samples_per_s, "steady_samples_per_s": samples_per_s},
        "inference": {"samples_per_s": 10 * samples_per_s, "repeats": 5},
        "latency": {"median_ms": 0.5, "p99_ms": 0.9, "n": 500},
        "load_probe": {"gflops": peak},
        "time_to_accuracy": {},
    }


def digits_records(seeds: Sequence[int] = (0, 1, 2), epochs: int = 4) -> list[RunRecord]:
    """Real fits on scikit-learn's digits: ``logreg`` (deterministic) and ``mlp`` per seed.

    The MLP trains with ``partial_fit`` one epoch at a time; its history holds the training
    loss, the validation accuracy (on 200 held-out training images) and the training clock,
    and its time to accuracy is read off that history.
    """
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    order = np.random.default_rng(0).permutation(len(y))
    train, val, test = order[:1097], order[1097:1297], order[1297:]
    records = []
    for seed in seeds:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            logreg = LogisticRegression(C=0.05, max_iter=30).fit(x[train], y[train])
        seconds = time.perf_counter() - start
        proba = logreg.predict_proba(x[test])
        records.append(
            make_record(
                "logreg",
                seed,
                y[test],
                proba.argmax(axis=1),
                proba,
                timings=speed_timings(seconds, len(train) / seconds, 100.0),
                model_info={"deterministic": True, "tuning": "C from a 5-fold search"},
                notes=["lbfgs stopped at max_iter=30 before converging"],
                parameters=650,
                finished_at=f"2026-11-30T02:00:{seed:02d}+00:00",
            )
        )
        mlp = MLPClassifier(hidden_layer_sizes=(32,), random_state=seed, learning_rate_init=0.01)
        history, clock, reached = [], 0.0, {}
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            mlp.partial_fit(x[train], y[train], classes=np.arange(10))
            clock += time.perf_counter() - start
            val_accuracy = float(mlp.score(x[val], y[val]))
            history.append(
                {
                    "epoch": epoch,
                    "loss": float(mlp.loss_),
                    "accuracy": float(mlp.score(x[train], y[train])),
                    "val_loss": None,
                    "val_accuracy": val_accuracy,
                    "train_seconds": clock,
                }
            )
            for target in TARGETS["digits"]:
                if val_accuracy >= target:
                    reached.setdefault(f"{target:g}", clock)
        proba = mlp.predict_proba(x[test])
        timings = speed_timings(clock, epochs * len(train) / clock, 100.0)
        timings["time_to_accuracy"] = reached
        records.append(
            make_record(
                "mlp",
                seed,
                y[test],
                proba.argmax(axis=1),
                proba,
                history=history,
                timings=timings,
                model_info={"tuning": "defaults of scikit-learn"},
                parameters=int(sum(w.size for w in mlp.coefs_ + mlp.intercepts_)),
                finished_at=f"2026-11-30T02:01:{seed:02d}+00:00",
            )
        )
    return records


def simulated_records(
    models: Sequence[tuple[str, float]],
    seeds: Sequence[int],
    datasets: Sequence[str] = ("mnist",),
    n_test: int = 10_000,
    rng_seed: int = 0,
) -> list[RunRecord]:
    """Records of ``models`` (label, accuracy) on ``datasets`` for every seed, cheaply.

    Each model answers right with its accuracy (images that are hard for everyone stay hard),
    so pairs are correlated like real models; each seed moves the accuracy a little.
    """
    rng = np.random.default_rng(rng_seed)
    records = []
    for d, dataset in enumerate(datasets):
        labels = rng.integers(0, 10, n_test)
        hard = rng.random(n_test) < 0.02
        for m, (label, accuracy) in enumerate(models):
            for seed in seeds:
                p = np.clip(accuracy + rng.normal(0, 0.002) - 0.01, 0, 1) / 0.98
                right = np.where(hard, rng.random(n_test) < 0.5, rng.random(n_test) < p)
                wrong = (labels + 1 + rng.integers(0, 9, n_test)) % 10
                seconds = 10.0 * (m + 1) * (1 + 0.05 * rng.random())
                history = [
                    {
                        "epoch": e,
                        "loss": 1.0 / e,
                        "accuracy": accuracy - 0.02 / e,
                        "val_loss": 1.1 / e,
                        "val_accuracy": accuracy - 0.02 / e,
                        "train_seconds": seconds * e / 3,
                    }
                    for e in (1, 2, 3)
                ]
                timings = speed_timings(seconds, 5000.0 / (m + 1), 300.0)
                timings["time_to_accuracy"] = {"0.97": seconds / 2} if accuracy > 0.97 else {}
                records.append(
                    make_record(
                        label,
                        seed,
                        labels,
                        np.where(right, labels, wrong),
                        dataset=dataset,
                        history=history,
                        timings=timings,
                        finished_at=f"2026-11-30T{d:02d}:{m:02d}:{seed % 60:02d}.{seed:06d}+00:00",
                        fast_metrics=True,
                    )
                )
    return records
