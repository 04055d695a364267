"""``bench tune --track mlflow``: a study is a parent MLflow run, each trial a child run with
its params, its validation curve (one point per check, step = the check's number) and whether
it was pruned."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.results.store.record import RunRecord
from bench.tune.study import StudySettings

EXPERIMENT = "mnist-bench tuning"
TrialHook = Callable[[Any, RunRecord], None]


class NoTracker:
    """``--track`` not given: nothing is logged."""

    @contextmanager
    def study(self, settings: StudySettings) -> Iterator[TrialHook | None]:
        """No hook."""
        yield None


class MlflowStudyTracker:
    """Parent run per study, child run per trial, in one MLflow experiment."""

    def __init__(self, uri: str, artifact_location: str | None) -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=uri)
        found = self.client.get_experiment_by_name(EXPERIMENT)
        self.experiment_id = (
            found.experiment_id
            if found is not None
            else self.client.create_experiment(EXPERIMENT, artifact_location=artifact_location)
        )

    @contextmanager
    def study(self, settings: StudySettings) -> Iterator[TrialHook]:
        """Open the study's parent run; yield the hook that logs each trial as a child."""
        parent = self.client.create_run(
            self.experiment_id,
            run_name=settings.name,
            tags={"bench.study": settings.name, "bench.kind": "study"},
        ).info.run_id
        self.client.log_batch(
            parent,
            params=_params(
                {
                    "model": settings.model,
                    "dataset": settings.dataset,
                    "trials": settings.budget.trials,
                    "trial_budget_seconds": settings.budget.trial_seconds,
                    "sampler": settings.sampler,
                    "pruner": settings.pruner,
                    "search_seed": settings.search_seed,
                }
            ),
        )
        best = {"value": None}

        def log_trial(trial: Any, record: RunRecord) -> None:
            child = self.client.create_run(
                self.experiment_id,
                run_name=f"{settings.name} trial {trial.number}",
                tags={
                    "mlflow.parentRunId": parent,
                    "bench.study": settings.name,
                    "bench.run_id": record.run_id,
                    "bench.trial_state": trial.state.name,
                    "bench.pruned": str(trial.state.name == "PRUNED").lower(),
                },
            ).info.run_id
            from mlflow.entities import Metric

            metrics = [
                Metric("val_accuracy_check", float(c["val_accuracy"]), 0, i)
                for i, c in enumerate(record.checks)
            ]
            if trial.value is not None:
                metrics.append(Metric("val_accuracy", float(trial.value), 0, 0))
                if best["value"] is None or trial.value > best["value"]:
                    best["value"] = trial.value
            self.client.log_batch(child, metrics=metrics, params=_params(trial.params))
            status = "FAILED" if trial.state.name == "FAIL" else "FINISHED"
            self.client.set_terminated(child, status=status)

        try:
            yield log_trial
        finally:
            if best["value"] is not None:
                from mlflow.entities import Metric

                self.client.log_batch(
                    parent, metrics=[Metric("best_val_accuracy", best["value"], 0, 0)]
                )
            self.client.set_terminated(parent)


def _params(values: dict[str, Any]) -> list[Any]:
    from mlflow.entities import Param

    return [Param(str(k), str(v)) for k, v in sorted(values.items())]


@contextmanager
def open_study_tracker(
    name: str | None, results_dir: Path, tracking_uri: str | None = None
) -> Iterator[NoTracker | MlflowStudyTracker]:
    """The tracker of ``--track`` (None: nothing), opened before any training."""
    if name is None:
        yield NoTracker()
        return
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise BenchError("--track mlflow needs MLflow: pip install 'mnist-bench[mlflow]'") from None
    from bench.results.tracking.mlflow import local_store, sqlite_artifacts

    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        artifacts = sqlite_artifacts(uri)
    else:
        uri, artifacts = local_store(results_dir)
    yield MlflowStudyTracker(uri, artifacts)
