"""The run record: one typed object per run, and its JSON form.

A :class:`RunRecord` is built by the trainer, with status ``ok`` for a finished run or through
:meth:`RunRecord.failed` for one that could not finish, written once by the store, and read
back by resume, stale detection, statistics and the report. Nothing else knows the JSON
layout: :meth:`to_dict` and :meth:`from_dict` are its only writer and reader, and
:func:`migrate` is the only code that knows older schema versions.

The run's identity and resolved configuration live once, in ``run`` (a :class:`RunSpec`);
``run_id``, ``label``, ``config_hash`` and the rest are derived from it.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from bench.core.errors import BenchError
from bench.core.spec import DEFAULT_BACKEND, RunSpec
from bench.measure.timing import training_rate

SCHEMA_VERSION = 2
Status = Literal["ok", "failed"]


class RecordError(BenchError):
    """A record file that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class RunError:
    """Why a run failed: the exception's type and message, and its traceback when there is one."""

    type: str
    message: str
    traceback: str | None = None

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


@dataclass
class RunRecord:
    """Everything one run produced. ``status == "ok"`` guarantees metrics and predictions."""

    run: RunSpec
    status: Status
    started_at: str
    finished_at: str
    environment: dict[str, Any] = field(default_factory=dict)
    family: str | None = None
    model_info: dict[str, Any] = field(default_factory=dict)
    code: dict[str, Any] = field(default_factory=dict)
    dataset_info: dict[str, Any] = field(default_factory=dict)
    n_train: int | None = None
    n_val: int | None = None
    n_test: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    predictions: list[int] = field(default_factory=list)
    test_labels: list[int] = field(default_factory=list)
    probabilities: dict[str, Any] | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    parameters: int | None = None
    flops: dict[str, Any] | None = None
    robustness: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    executor: dict[str, Any] | None = None
    saved_model: dict[str, Any] | None = None
    error: RunError | None = None
    schema_version: int = SCHEMA_VERSION
    probability_arrays: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    """Validation and test probabilities in memory, until the store writes them beside the
    record (see :func:`bench.results.store.files.write_record`); never part of the JSON."""
    model_files: dict[str, bytes] | None = field(default=None, repr=False, compare=False)
    """The saved model's files (name -> content) in memory, until the store writes them beside
    the record and puts their SHA-256 into ``saved_model`` (``--save-model``)."""

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def failed(
        cls,
        run: RunSpec,
        error: RunError,
        *,
        started_at: str,
        finished_at: str,
        environment: dict[str, Any] | None = None,
        **partial: Any,
    ) -> RunRecord:
        """A record for a run that did not finish; ``partial`` keeps whatever it did produce."""
        return cls(
            run=run,
            status="failed",
            started_at=started_at,
            finished_at=finished_at,
            environment=environment or {},
            error=error,
            **partial,
        )

    # --- derived values ---------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        """Folder name of this record: dataset, model.preset, seed and config hash."""
        return self.run.run_id

    @property
    def label(self) -> str:
        """How tables name the model (``mlp`` or ``mlp:quick``)."""
        return self.run.label

    @property
    def model(self) -> str:
        """The registered model name."""
        return self.run.model

    @property
    def preset(self) -> str:
        """The preset name (``default`` when none was chosen)."""
        return self.run.preset

    @property
    def dataset(self) -> str:
        """The dataset name."""
        return self.run.dataset

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.run.seed

    @property
    def config(self) -> dict[str, Any]:
        """The fully resolved training configuration."""
        return self.run.config

    @property
    def config_hash(self) -> str:
        """Hash of what changes the result (config, model code, subsets, determinism)."""
        return self.run.config_hash()

    @property
    def ok(self) -> bool:
        """True when the run finished and has metrics."""
        return self.status == "ok"

    @property
    def accuracy(self) -> float:
        """Test accuracy (a fraction)."""
        return float(self.metrics["accuracy"])

    @property
    def test_count(self) -> int | None:
        """Test images the run was scored on (older records keep the count in ``metrics``
        only; a failed run that never scored has none)."""
        return self.n_test or self.metrics.get("n_test") or len(self.test_labels) or None

    @property
    def train_seconds(self) -> float | None:
        """Seconds spent inside training steps (no evaluation, no setup); older records
        keep them in ``timings.training`` only."""
        training = self.timings.get("training") or {}
        clocks = self.timings.get("clocks") or {}
        return clocks.get("train_seconds", training.get("train_seconds"))

    @property
    def wall_seconds(self) -> float | None:
        """Seconds the whole run took, data loading to the last measurement (older records:
        ``fit_seconds``)."""
        clocks = self.timings.get("clocks") or {}
        return clocks.get("wall_seconds", self.timings.get("fit_seconds"))

    @property
    def peak_rss_mb(self) -> float | None:
        """The run's peak resident memory in MB (older records keep it outside ``memory``)."""
        memory = self.timings.get("memory") or {}
        return memory.get("peak_rss_mb") or self.timings.get("peak_rss_mb")

    @property
    def load_probe_gflops(self) -> float | None:
        """GFLOP/s of the matmul probe taken at the run's start: how busy the machine was
        (older records call it ``peak``)."""
        probe = self.timings.get("load_probe") or self.timings.get("peak") or {}
        return probe.get("gflops")

    @property
    def train_samples_per_s(self) -> float | None:
        """Training images per second: steady epochs, else after the first compiled step, else
        over the whole training clock."""
        return training_rate(self.timings.get("training") or {})

    @property
    def inference_samples_per_s(self) -> float | None:
        """Batch inference images per second over the test set (median pass)."""
        return (self.timings.get("inference") or {}).get("samples_per_s")

    @property
    def latency_p50_ms(self) -> float | None:
        """Median single-image latency in milliseconds."""
        return (self.timings.get("latency") or {}).get("median_ms")

    # --- JSON form --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form written to ``record.json``."""
        data: dict[str, Any] = {
            "schema_version": self.schema_version,
            "run_id": self.run_id,
            "status": self.status,
            "run": self.run.to_dict(),
        }
        for name in _PLAIN_FIELDS:
            data[name] = getattr(self, name)
        data["error"] = None if self.error is None else vars(self.error).copy()
        return data

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord:
        """Parse and check a record's JSON form; raise :class:`RecordError` saying what is wrong.

        Records of an older schema go through :func:`migrate` first.
        """
        if not isinstance(data, dict):
            raise RecordError(f"a record must be a JSON object, got {type(data).__name__}")
        data = migrate(data)
        try:
            run = RunSpec.from_dict(data["run"])
        except (KeyError, TypeError, ValueError) as error:
            raise RecordError(f"bad 'run' field ({error})") from None
        status = data.get("status")
        if status not in ("ok", "failed"):
            raise RecordError(f"status must be 'ok' or 'failed', got {status!r}")
        values: dict[str, Any] = {}
        for name in _PLAIN_FIELDS:
            if name in data and data[name] is not None:
                values[name] = data[name]
        _check_types(values)
        failure = data.get("error")
        record = cls(
            run=run,
            status=status,
            error=RunError(**failure) if isinstance(failure, dict) else None,
            **values,
        )
        if record.ok:
            _check_ok(record)
        return record


_NOT_PLAIN = {"run", "status", "error", "schema_version", "probability_arrays", "model_files"}
"""Fields with a form of their own in the JSON (or none, like the in-memory probabilities)."""


def _json_type(hint: Any) -> type:
    """The JSON type a field's annotation allows: ``dict[str, Any] | None`` -> ``dict``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    origin = typing.get_origin(hint)
    return origin if isinstance(origin, type) else hint


_HINTS = typing.get_type_hints(RunRecord)
_FIELD_TYPES: dict[str, type] = {
    f.name: _json_type(_HINTS[f.name]) for f in fields(RunRecord) if f.name not in _NOT_PLAIN
}
"""The record's plain fields (written as they are) and their JSON types, read off the
dataclass, in its order."""
_PLAIN_FIELDS = tuple(_FIELD_TYPES)


def _check_types(values: dict[str, Any]) -> None:
    for name, value in values.items():
        expected = _FIELD_TYPES[name]
        if not isinstance(value, expected) or isinstance(value, bool) and expected is int:
            raise RecordError(f"field {name!r} has the wrong type ({type(value).__name__})")
    values.setdefault("started_at", "")
    values.setdefault("finished_at", "")


def _check_ok(record: RunRecord) -> None:
    """An ok record must carry finite metrics and one prediction per test label (a tuning
    trial: a finite validation accuracy, and no test predictions at all)."""
    if record.run.tuning:
        score = record.metrics.get("val_accuracy")
        if not isinstance(score, (int, float)) or not 0.0 <= score <= 1.0:
            raise RecordError(f"status ok but the trial's validation accuracy is {score!r}")
        if record.predictions or record.test_labels:
            raise RecordError("a tuning trial's record must hold no test predictions or labels")
        return
    accuracy = record.metrics.get("accuracy")
    if not isinstance(accuracy, (int, float)) or not math.isfinite(accuracy):
        raise RecordError(f"status ok but accuracy is {accuracy!r}")
    if not 0.0 <= accuracy <= 1.0:
        raise RecordError(f"accuracy {accuracy} lies outside [0, 1]")
    if len(record.predictions) != len(record.test_labels) or not record.predictions:
        raise RecordError(
            f"{len(record.predictions)} predictions for {len(record.test_labels)} test labels"
        )
    n_test = record.metrics.get("n_test")
    if n_test is not None and n_test != len(record.test_labels):
        raise RecordError(
            f"metrics count {n_test} test images, the labels {len(record.test_labels)}"
        )


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a record of an older schema to the current layout (the one place that knows them).

    Schema 1 stored identity and config twice, had no code fingerprint, no validation split
    (validation ran on the test set) and one ``fit_seconds`` clock. Its fields are mapped
    onto schema 2; what it never measured stays empty, and ``protocol`` says how it was made.
    """
    version = data.get("schema_version")
    # JSON's true equals 1 in Python and 1.0 equals 1: only a whole number names a schema
    if type(version) is not int or version not in (1, SCHEMA_VERSION):
        raise RecordError(f"schema {version!r}; this version reads schemas 1 and {SCHEMA_VERSION}")
    if version == SCHEMA_VERSION:
        return data
    for name in ("run", "timings"):
        if not isinstance(data.get(name) or {}, dict):
            raise RecordError(f"schema-1 field {name!r} is not a JSON object")
    run = dict(data.get("run") or {})
    timings = dict(data.get("timings") or {})
    training = timings.get("training") or {}
    timings["clocks"] = {
        "train_seconds": training.get("train_seconds"),
        "wall_seconds": timings.get("fit_seconds"),
        "eval_seconds": None,
    }
    migrated = {key: value for key, value in data.items() if key not in _SCHEMA1_DUPLICATES}
    migrated.update(schema_version=SCHEMA_VERSION, run=run, timings=timings)
    migrated["notes"] = ["schema 1: validated on the test set, before the code fingerprint"]
    error = migrated.get("error")
    if isinstance(error, dict):
        migrated["error"] = {k: error.get(k) for k in ("type", "message", "traceback")}
    return migrated


_SCHEMA1_DUPLICATES = ("model", "preset", "dataset", "seed", "config")


FAMILY_FRAMEWORKS = {"sklearn": "scikit-learn", "torch": "torch"}
"""The framework of a family whose records predate the recorded framework versions."""


def runs_on(record: RunRecord) -> str:
    """What ran the model: a Keras model's backend (``run.backend``), else the framework its
    record names (``torch``, ``scikit-learn``), else its family's."""
    if record.family == "keras":
        return record.run.backend or DEFAULT_BACKEND
    framework = (record.environment or {}).get("framework") or {}
    named = next((name for name in framework if name in FAMILY_FRAMEWORKS.values()), None)
    return named or FAMILY_FRAMEWORKS.get(record.family or "", record.family or "unknown")
