"""Run records as flat tables: one row per run, per run and class, or per run and epoch.

Pure functions from :class:`RunRecord` to :class:`pandas.DataFrame`; the column names are the
public contract of ``bench export`` and :func:`bench.load_results`, documented in
``docs/export.md``. Groups of columns that depend on the records (config keys, library
versions, accuracy targets) carry a dotted prefix: ``config.epochs``, ``lib.tensorflow``,
``time_to_accuracy.0.99``.

Every column holds one type: a value that is a list or a mapping, or a column whose values
mix types (a config key that is a number for one model and text for another), is written as
JSON text, so every table converts to CSV, Parquet and JSON Lines alike.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from bench.results.store.record import RunRecord, runs_on
from bench.results.store.seeds import seed_independent_groups

if TYPE_CHECKING:
    import pandas as pd

TABLES = ("runs", "per_class", "per_epoch")
"""The three table shapes: one row per run, per (run, class), per (run, epoch)."""

IDENTITY_COLUMNS = (
    "run_id",
    "model",
    "preset",
    "label",
    "backend",
    "dataset",
    "seed",
    "status",
    "current",
)
QUALITY_COLUMNS = ("accuracy", "macro_f1", "log_loss", "brier", "ece")
SPEED_COLUMNS = (
    "train_seconds",
    "eval_seconds",
    "wall_seconds",
    "first_epoch_seconds",
    "train_samples_per_s",
    "inference_samples_per_s",
    "latency_p50_ms",
    "latency_p99_ms",
    "peak_rss_mb",
    "parameters",
    "forward_flops_per_sample",
    "train_gflops",
    "inference_gflops",
    "train_percent_of_peak",
    "matmul_peak_gflops",
    "load_probe_gflops",
)
"""Numeric speed and size columns of the runs table (see docs/export.md for units)."""


def runs_frame(records: Sequence[RunRecord], current: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per record: identity, data, quality, speed, environment, code, config, error.

    ``current`` is the run ids of the records the tables use (see
    :func:`bench.results.store.stale.split_by_definition`); without it every record counts as
    current.
    """
    current_ids = None if current is None else set(current)
    independent = seed_independent_groups([r for r in records if r.ok])
    rows = [
        {**run_row(record, current_ids), "seed_independent": key in independent}
        for record, key in ((r, (r.dataset, r.label)) for r in records)
    ]
    return _frame(rows, _run_columns(rows))


def per_class_frame(
    records: Sequence[RunRecord], current: Iterable[str] | None = None
) -> pd.DataFrame:
    """One row per (ok record, class): precision, recall, F1, support, and from the confusion
    matrix the images of the class classified right (``correct``) and the images predicted as
    the class (``predicted``)."""
    current_ids = None if current is None else set(current)
    rows = []
    for record in records:
        if not record.ok:
            continue
        identity = _identity(record, current_ids)
        per_class = record.metrics.get("per_class") or {}
        matrix = record.metrics.get("confusion_matrix") or []
        names = (record.dataset_info or {}).get("class_names") or []
        for index in range(len(per_class.get("support") or [])):
            row = dict(identity)
            row["class_index"] = index
            row["class_name"] = str(names[index]) if index < len(names) else str(index)
            for key in ("precision", "recall", "f1", "support"):
                values = per_class.get(key) or []
                row[key] = values[index] if index < len(values) else None
            if index < len(matrix):
                row["correct"] = matrix[index][index]
                row["predicted"] = sum(line[index] for line in matrix)
            rows.append(row)
    columns = [*IDENTITY_COLUMNS, "class_index", "class_name", "precision", "recall", "f1"]
    columns += ["support", "correct", "predicted"]
    return _frame(rows, columns)


def per_epoch_frame(
    records: Sequence[RunRecord], current: Iterable[str] | None = None
) -> pd.DataFrame:
    """One row per (record, history entry): the entry's values (loss, accuracy, val_loss,
    val_accuracy, seconds, ...) beside the run's identity. Failed runs keep the epochs they
    finished."""
    current_ids = None if current is None else set(current)
    rows = []
    for record in records:
        identity = _identity(record, current_ids)
        for entry in record.history:
            row = dict(identity)
            row.update({key: _cell(value) for key, value in entry.items()})
            rows.append(row)
    order = (*IDENTITY_COLUMNS, "epoch", "loss", "accuracy", "val_loss", "val_accuracy")
    return _frame(rows, _ordered_columns(rows, order))


FRAMES = {"runs": runs_frame, "per_class": per_class_frame, "per_epoch": per_epoch_frame}


def run_row(record: RunRecord, current: set[str] | None = None) -> dict[str, Any]:
    """The runs-table row of one record, as a plain dict (column -> value).

    The one place a record is read flat: the export's runs table, the MLflow params and the
    report's run frame (:func:`bench.results.report.aggregate.run_frame`) all start here.
    """
    timings = record.timings or {}
    training = timings.get("training") or {}
    latency = timings.get("latency") or {}
    efficiency = timings.get("efficiency") or {}
    environment = record.environment or {}
    code = record.code or {}
    history = record.history or []
    row = _identity(record, current)
    row.update(
        config_hash=record.config_hash,
        code_fingerprint=record.run.code_fingerprint or code.get("model_fingerprint"),
        family=record.family,
        runs_on=runs_on(record) if record.family else None,
        schema_version=record.schema_version,
        started_at=record.started_at or None,
        finished_at=record.finished_at or None,
        executor=(record.executor or {}).get("name") or "local",
        n_train=record.n_train,
        n_val=record.n_val,
        n_test=record.test_count,
        limit_train=record.run.limit_train,
        limit_test=record.run.limit_test,
        deterministic_kernels=record.run.deterministic,
        dataset_source=(record.dataset_info or {}).get("source"),
        protocol=(record.dataset_info or {}).get("protocol"),
        num_classes=_num_classes(record),
        tuning=(record.model_info or {}).get("tuning"),
        overridden=", ".join((record.model_info or {}).get("overridden") or ()) or None,
    )
    for name, value in record.metrics.items():
        if _is_number(value) and name != "n_test":
            row[name] = float(value)
    row.update(
        epochs=len(history),
        final_loss=_number(history[-1].get("loss")) if history else None,
        final_val_accuracy=_number(history[-1].get("val_accuracy")) if history else None,
        train_seconds=_number(record.train_seconds),
        eval_seconds=_number((timings.get("clocks") or {}).get("eval_seconds")),
        wall_seconds=_number(record.wall_seconds),
        first_epoch_seconds=_number(training.get("first_epoch_seconds")),
        train_samples_per_s=_number(record.train_samples_per_s),
        inference_samples_per_s=_number(record.inference_samples_per_s),
        latency_p50_ms=_number(record.latency_p50_ms),
        latency_p99_ms=_number(latency.get("p99_ms")),
        latency_calls=latency.get("n"),
        inference_passes=(timings.get("inference") or {}).get("repeats"),
        peak_rss_mb=_number(record.peak_rss_mb),
        parameters=record.parameters,
        forward_flops_per_sample=(record.flops or {}).get("forward_per_sample"),
        train_gflops=_number(efficiency.get("train_gflops")),
        inference_gflops=_number(efficiency.get("inference_gflops")),
        train_percent_of_peak=_number(efficiency.get("train_percent_of_peak")),
        matmul_peak_gflops=_number((environment.get("matmul_peak") or {}).get("gflops")),
        load_probe_gflops=_number(record.load_probe_gflops),
    )
    for target, seconds in (timings.get("time_to_accuracy") or {}).items():
        row[f"time_to_accuracy.{_target_name(target)}"] = _number(seconds)
    for phase, seconds in (timings.get("phases") or {}).items():
        row[f"phase.{phase}"] = _number(seconds)
    row.update(
        hostname=environment.get("hostname"),
        cpu_model=environment.get("cpu_model"),
        logical_cores=environment.get("logical_cores"),
        usable_cores=environment.get("usable_cores"),
        platform=environment.get("platform"),
        python=environment.get("python"),
    )
    for library, version in (environment.get("libraries") or {}).items():
        row[f"lib.{library}"] = version
    row.update(
        git_commit=code.get("git_commit"),
        git_dirty=code.get("git_dirty"),
        harness_version=code.get("harness_version"),
    )
    for key, value in record.config.items():
        row[f"config.{key}"] = _cell(value)
    row.update(
        notes="; ".join(record.notes) or None,
        error_type=record.error.type if record.error else None,
        error_message=record.error.message if record.error else None,
    )
    return row


RUN_COLUMN_ORDER = (
    *IDENTITY_COLUMNS,
    "config_hash",
    "code_fingerprint",
    "family",
    "runs_on",
    "schema_version",
    "started_at",
    "finished_at",
    "executor",
    "n_train",
    "n_val",
    "n_test",
    "limit_train",
    "limit_test",
    "deterministic_kernels",
    "seed_independent",
    "dataset_source",
    "protocol",
    "num_classes",
    "tuning",
    "overridden",
    *QUALITY_COLUMNS,
    "epochs",
    "final_loss",
    "final_val_accuracy",
    *SPEED_COLUMNS,
    "latency_calls",
    "inference_passes",
)


ENVIRONMENT_COLUMNS = (
    "hostname",
    "cpu_model",
    "logical_cores",
    "usable_cores",
    "platform",
    "python",
)
CODE_COLUMNS = ("git_commit", "git_dirty", "harness_version")
TAIL_COLUMNS = ("notes", "error_type", "error_message")


def _run_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The runs table's columns: fixed ones first, each prefixed group together."""
    seen = _ordered_columns(rows, ())

    def group(prefix: str) -> list[str]:
        return [column for column in seen if column.startswith(prefix)]

    targets = sorted(group("time_to_accuracy."), key=lambda c: float(c.split(".", 1)[1]))
    fixed = set(RUN_COLUMN_ORDER + ENVIRONMENT_COLUMNS + CODE_COLUMNS + TAIL_COLUMNS)
    grouped = set(targets) | set(group("phase.")) | set(group("lib.")) | set(group("config."))
    other = [c for c in seen if c not in fixed and c not in grouped]  # extra scalar metrics
    return [
        *RUN_COLUMN_ORDER[: RUN_COLUMN_ORDER.index("epochs")],
        *other,
        *RUN_COLUMN_ORDER[RUN_COLUMN_ORDER.index("epochs") :],
        *targets,
        *group("phase."),
        *ENVIRONMENT_COLUMNS,
        *group("lib."),
        *CODE_COLUMNS,
        *group("config."),
        *TAIL_COLUMNS,
    ]


def _num_classes(record: RunRecord) -> int:
    """The dataset's class count (records made before it was stored: from the class names,
    else MNIST's 10)."""
    info = record.dataset_info or {}
    return int(info.get("num_classes") or len(info.get("class_names") or ()) or 10)


def _target_name(target: Any) -> str:
    """An accuracy target as a short number: ``"0.90"`` and ``0.9`` both give ``0.9``."""
    try:
        return f"{float(target):g}"
    except (TypeError, ValueError):
        return str(target)


def _identity(record: RunRecord, current: set[str] | None) -> dict[str, Any]:
    return {
        "run_id": record.run_id,
        "model": record.model,
        "preset": record.preset,
        "label": record.label,
        "backend": record.run.backend,
        "dataset": record.dataset,
        "seed": record.seed,
        "status": record.status,
        "current": True if current is None else record.run_id in current,
    }


def _ordered_columns(rows: list[dict[str, Any]], first: Sequence[str]) -> list[str]:
    """``first`` in its order, then the other keys in the order they first appear."""
    seen = dict.fromkeys(first)
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    """A finite or infinite float, or None for a missing value."""
    return float(value) if _is_number(value) else None


def _cell(value: Any) -> Any:
    """Scalars as they are; lists and mappings as JSON text."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, sort_keys=True)
    return value


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Build a frame column by column from plain values, giving each column one type.

    Whole numbers stay integers where values are missing (pandas' nullable ``Int64``), true/false
    stays ``boolean``, text is ``string``; a column mixing kinds holds each value as JSON text.
    """
    import pandas as pd

    data = {}
    for column in columns:
        values = [row.get(column) for row in rows]
        present = [value for value in values if value is not None and not _is_nan(value)]
        kinds = {_kind(value) for value in present}
        if not present:
            data[column] = pd.array([None] * len(values), dtype="object")
        elif kinds == {"int"}:
            data[column] = pd.array(values, dtype="Int64")
        elif kinds <= {"int", "float"}:
            data[column] = pd.array([_float_or_nan(v) for v in values], dtype="float64")
        elif kinds == {"bool"}:
            data[column] = pd.array(values, dtype="boolean")
        elif kinds == {"str"}:
            data[column] = pd.array(values, dtype="string")
        else:
            json_text = [None if v is None or _is_nan(v) else json.dumps(v) for v in values]
            data[column] = pd.array(json_text, dtype="string")
    return pd.DataFrame(data, columns=list(columns), index=pd.RangeIndex(len(rows)))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _float_or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
