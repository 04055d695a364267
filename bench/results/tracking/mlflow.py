"""MLflow tracker: one MLflow run per bench run.

Each bench run becomes an MLflow run in the experiment ``mnist-bench`` (or
``$MLFLOW_EXPERIMENT_NAME``) holding

* params: model, preset, label, backend, dataset, seed, subset sizes, determinism and every
  resolved config value (``config.<key>``);
* per-epoch metrics with the epoch as step (``train_loss``, ``train_accuracy``, ``val_loss``,
  ``val_accuracy``, ``epoch_seconds``, ...), time-stamped when the epoch ended;
* final metrics: ``test_<metric>`` for every quality metric and the speed columns of the
  runs table (``train_samples_per_s``, ``latency_p50_ms``, ...);
* tags: ``bench.*`` for the run id, backend, config hash, code fingerprint, git commit and the
  machine (CPU, cores, Python, platform, ``bench.lib.<library>`` versions);
* artifacts: ``record.json``, when ``bench report`` has drawn it, the confusion figure, and,
  for a run that kept its model (``--save-model``), the model in MLflow's onnx flavour under
  ``model`` and in its framework's flavour (keras, pytorch or sklearn) under ``native_model``
  (:mod:`.mlflow_model`).

The store is ``--tracking-uri``, else ``$MLFLOW_TRACKING_URI``, else a SQLite file under the
results folder (``<results>/mlflow/mlflow.db``, artifacts in ``<results>/mlflow/artifacts``).
A new experiment in another SQLite file keeps its artifacts beside that file; a server decides
where its artifacts go.
Sending a record that is already in the experiment (same run id and finish time) does nothing,
so ``bench export --to mlflow`` can be repeated.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.results.export.flatten import CODE_COLUMNS, ENVIRONMENT_COLUMNS, SPEED_COLUMNS, run_row
from bench.results.store.files import record_path
from bench.results.store.record import RunRecord
from bench.results.tracking import NativeLoader, epoch_values, register_tracker, timestamp
from bench.results.tracking.mlflow_model import log_native_model, log_onnx_model, model_tags

EXPERIMENT = "mnist-bench"
STORE_FOLDER = "mlflow"
SERVER_TIMEOUT_S = 5.0
"""How long a tracking server may take to answer before the command stops with an error."""
PARAM_LIMIT = 6000  # characters MLflow keeps of a parameter value
BATCH = 100  # MLflow takes at most 100 params (1000 entries in all) per batch
TRAINING_COLUMNS = ("epochs", "final_loss", "final_val_accuracy")
TAG_COLUMNS = (
    "run_id",
    "backend",
    "status",
    "config_hash",
    "code_fingerprint",
    "family",
    "executor",
    "dataset_source",
    "started_at",
    "finished_at",
    *CODE_COLUMNS,
    *ENVIRONMENT_COLUMNS,
)


def local_store(results_dir: Path) -> tuple[str, str]:
    """The default tracking URI and artifact location: a SQLite file under the results folder."""
    folder = (Path(results_dir) / STORE_FOLDER).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}", (folder / "artifacts").as_uri()


def sqlite_artifacts(uri: str) -> str | None:
    """For a SQLite store, an ``artifacts`` folder beside the database file (MLflow would use
    ``./mlruns`` in whatever folder the command runs from); None for servers, which choose."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    database = Path(uri[len(prefix) :])
    return (database.resolve().parent / "artifacts").as_uri()


@register_tracker(
    "mlflow",
    requirement="mnist-bench[mlflow]",
    description="one MLflow run per bench run: params, per-epoch and final metrics, tags, "
    "the record as artifact",
)
def open_mlflow(results_dir: Path, tracking_uri: str | None = None) -> MlflowTracker:
    """Connect to ``tracking_uri`` (or the default store) and find or create the experiment."""
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        check_server(uri)
        artifact_location = sqlite_artifacts(uri)
    else:
        uri, artifact_location = local_store(results_dir)
    experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT
    return MlflowTracker(uri, experiment, artifact_location)


def check_server(uri: str, timeout: float = SERVER_TIMEOUT_S) -> None:
    """For an ``http(s)://`` tracking URI, raise a :class:`BenchError` naming the URI unless a
    server there answers an HTTP request within ``timeout`` seconds (MLflow's own client would
    retry for minutes); other stores (files, databases) are not checked here."""
    if urllib.parse.urlsplit(uri).scheme.lower() not in ("http", "https"):
        return
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # a server answered, if not with a health page
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise BenchError(
            f"the MLflow tracking server at {uri} did not answer within {timeout:g}s "
            f"({reason}); start it, correct --tracking-uri (or MLFLOW_TRACKING_URI), or leave "
            "out --track mlflow"
        ) from None


class MlflowTracker:
    """Logs records into one MLflow experiment through :class:`mlflow.tracking.MlflowClient`."""

    def __init__(self, uri: str, experiment: str, artifact_location: str | None = None) -> None:
        with _quiet_mlflow():
            from mlflow.tracking import MlflowClient

            self.uri = uri
            self.experiment = experiment
            self.client = MlflowClient(tracking_uri=uri)
            self.load_native: NativeLoader | None = None  # set by open_tracker
            found = self.client.get_experiment_by_name(experiment)
            if found is not None:
                self.experiment_id = found.experiment_id
            else:
                self.experiment_id = self.client.create_experiment(
                    experiment, artifact_location=artifact_location
                )

    def find(self, record: RunRecord) -> str | None:
        """The MLflow run id already holding ``record``, if any."""
        query = (
            f"tags.`bench.run_id` = '{_quote(record.run_id)}' "
            f"and tags.`bench.finished_at` = '{_quote(record.finished_at)}'"
        )
        runs = self.client.search_runs([self.experiment_id], filter_string=query, max_results=1)
        return runs[0].info.run_id if runs else None

    def log(self, record: RunRecord, results_dir: Path) -> str:
        """Create one MLflow run for ``record`` (unless it is there already)."""
        existing = self.find(record)
        if existing:
            return f"already in MLflow as run {existing} ({self.uri})"
        row = run_row(record)
        started = timestamp(record.started_at)
        run = self.client.create_run(
            self.experiment_id,
            start_time=_ms(started),
            tags=_tags(record, row),
            run_name=f"{record.label} {record.dataset} seed {record.seed}",
        )
        mlflow_id = run.info.run_id
        try:
            self._log_values(mlflow_id, record, row, started)
            self._log_artifacts(mlflow_id, record, results_dir)
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.delete_run(mlflow_id)  # no half-logged run blocks a retry
            raise
        finished = _ms(timestamp(record.finished_at))
        status = "FINISHED" if record.ok else "FAILED"
        self.client.set_terminated(mlflow_id, status=status, end_time=finished)
        return f"MLflow run {mlflow_id} in experiment '{self.experiment}' ({self.uri})"

    def _log_values(
        self, mlflow_id: str, record: RunRecord, row: dict[str, Any], started: float | None
    ) -> None:
        from mlflow.entities import Metric, Param

        params = [Param(key, _param_text(value)) for key, value in params_of(record).items()]
        ended = _ms(timestamp(record.finished_at))
        metrics: list[Metric] = []
        for entry in record.history:
            step = int(entry.get("epoch", len(metrics)))
            elapsed = entry.get("elapsed_seconds")
            when = _ms(started + elapsed) if started is not None and elapsed is not None else None
            for key, value in epoch_values(entry).items():
                metrics.append(Metric(epoch_metric_name(key), value, when or ended or 0, step))
        last_step = int(record.history[-1].get("epoch", 0)) if record.history else 0
        for key, value in final_metrics(record, row).items():
            metrics.append(Metric(key, value, ended or 0, last_step))
        for start in range(0, max(len(params), len(metrics)), BATCH):
            self.client.log_batch(
                mlflow_id,
                metrics=metrics[start : start + BATCH],
                params=params[start : start + BATCH],
            )

    def _log_artifacts(self, mlflow_id: str, record: RunRecord, results_dir: Path) -> None:
        log_onnx_model(self.client, mlflow_id, record, results_dir)
        if self.load_native is not None:
            tags = log_native_model(self.client, mlflow_id, record, results_dir, self.load_native)
            for key, value in tags.items():
                self.client.set_tag(mlflow_id, key, value)
        path = record_path(results_dir, record.run_id)
        if path.is_file():
            self.client.log_artifact(mlflow_id, str(path))
        figure = confusion_figure(results_dir, record)
        if figure is not None:
            self.client.log_artifact(mlflow_id, str(figure), artifact_path="figures")

    def close(self) -> None:
        """Nothing to release: every call of the client is complete when it returns."""


def params_of(record: RunRecord) -> dict[str, Any]:
    """What defines the run: identity, subsets, determinism and each resolved config value."""
    params: dict[str, Any] = {
        "model": record.model,
        "preset": record.preset,
        "label": record.label,
        "backend": record.run.backend,
        "dataset": record.dataset,
        "seed": record.seed,
        "limit_train": record.run.limit_train,
        "limit_test": record.run.limit_test,
        "deterministic_kernels": record.run.deterministic,
    }
    params.update({f"config.{key}": value for key, value in record.config.items()})
    return params


def epoch_metric_name(key: str) -> str:
    """``loss`` -> ``train_loss``, ``val_loss`` stays, ``seconds`` -> ``epoch_seconds``."""
    if key in ("loss", "accuracy"):
        return f"train_{key}"
    return key if key.startswith("val_") else f"epoch_{key}"


def final_metrics(record: RunRecord, row: dict[str, Any]) -> dict[str, float]:
    """The end-of-run numbers: ``test_<metric>`` for each scalar metric of the record, then the
    training, speed, time-to-accuracy and phase columns of its runs-table row."""
    values = {
        f"test_{key}": float(value)
        for key, value in record.metrics.items()
        if _is_number(value) and key != "n_test"
    }
    for key, value in row.items():
        wanted = key in SPEED_COLUMNS or key in TRAINING_COLUMNS
        if _is_number(value) and (wanted or key.startswith(("time_to_accuracy.", "phase."))):
            values[key] = float(value)
    return values


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _tags(record: RunRecord, row: dict[str, Any]) -> dict[str, str]:
    tags = {f"bench.{key}": str(row[key]) for key in TAG_COLUMNS if row.get(key) is not None}
    for key, value in row.items():
        if key.startswith("lib.") and value is not None:
            tags[f"bench.{key}"] = str(value)
    if row.get("git_commit"):
        tags["mlflow.source.git.commit"] = str(row["git_commit"])
    tags.update(model_tags(record))
    notes = list(record.notes)
    if record.error is not None:
        notes.insert(0, f"failed: {record.error}")
    if notes:
        tags["mlflow.note.content"] = "\n".join(notes)
    return tags


def confusion_figure(results_dir: Path, record: RunRecord) -> Path | None:
    """The confusion-matrix figure ``bench report`` drew for this model and dataset, if any."""
    folder = Path(results_dir) / "figures"
    dataset, label = _slug(record.dataset), _slug(record.label)
    for path in sorted(folder.glob("*confusion*.png")):
        if path.name.startswith(f"{dataset}_{label}_"):
            return path
    return None


def _slug(text: str) -> str:
    """File-name form of a label, as the figures use it: ``mlp:quick`` -> ``mlp-quick``."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-")


def _param_text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= PARAM_LIMIT else text[: PARAM_LIMIT - 3] + "..."


def _quote(text: str) -> str:
    return text.replace("'", "\\'")


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(round(seconds * 1000))


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """Keep MLflow's and SQLAlchemy's set-up chatter (schema migrations, deprecations) off the
    terminal while the store opens."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*noload.*")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
