"""The race data the report draws from: pure functions over trial records and run records.

- :func:`race_label`: which race a run record belongs to (``defaults``, ``tuned`` or
  ``replication``).
- :func:`trial_frame`: one row per trial, with the best-so-far validation accuracy against
  the trial number and against the cumulative training seconds of its study.
- :func:`trial_counts`: per study, the trials by state and the budget they ran under.
- :func:`tuned_note`: what the leaderboard's "Defaults chosen by" says for a tuned preset.
- :func:`search_spread_frame`: per model searched with several search seeds, the best
  validation accuracy of each search and the test accuracy of each search's preset.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.core.errors import BenchError
from bench.core.spec import model_label
from bench.results.store.files import load_records
from bench.results.store.record import RunRecord
from bench.results.store.tuned import (
    TUNING_FOLDER,
    is_tuned,
    preset_name,
    preset_path,
    read_preset,
    search_seed_of,
)

TUNING_FRAME = "tuning"
"""The aggregate's extra frame of trials (:func:`trial_frame`), set by the report's writer."""
DEFAULTS_RACE = "defaults"
TUNED_RACE = "tuned"
RACES = (DEFAULTS_RACE, TUNED_RACE)
"""The two races the leaderboard ranks and gives verdicts, in the order it shows them."""
REPLICATION = "replication"
TRIAL_COLUMNS = [
    "dataset",
    "model",
    "study",
    "search_seed",
    "trial",
    "state",
    "val_accuracy",
    "train_seconds",
    "budget_seconds",
    "cumulative_seconds",
    "best_so_far",
]


def race_label(record: RunRecord) -> str:
    """``tuned`` for the run of a preset tuned with search seed 0, ``tuned-s<K>`` for another
    search seed's preset (a measure of the search's variance, in neither race),
    ``replication`` for a run that validated on the test set, else ``defaults``."""
    if record.dataset_info.get("protocol") == "test-as-validation":
        return REPLICATION
    if not is_tuned(record.preset):
        return DEFAULTS_RACE
    return TUNED_RACE if search_seed_of(record.preset) == 0 else record.preset


def load_trial_records(results_dir: Path, dataset: str | None = None) -> list[RunRecord]:
    """Every trial record under ``<results>/tuning/`` (of one dataset when given)."""
    root = Path(results_dir) / TUNING_FOLDER
    folders = sorted(root.glob(f"{dataset or '*'}/*/"))
    return [r for folder in folders for r in load_records(folder) if r.run.tuning]


def trial_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per trial, sorted by study and trial number, with the cumulative training
    seconds of its study and the best validation accuracy of its study's complete trials so
    far (NaN before the first). A failed trial has no accuracy; a pruned trial's partial score
    does not count as a result."""
    rows = []
    for record in records:
        tuning = record.run.tuning or {}
        trial = record.metrics.get("trial") or {}
        state = trial.get("state", "COMPLETE") if record.ok else "FAIL"
        rows.append(
            {
                "dataset": record.dataset,
                "model": record.model,
                "study": tuning.get("study"),
                "search_seed": record.seed,
                "trial": tuning.get("number"),
                "state": state,
                "val_accuracy": record.metrics.get("val_accuracy") if record.ok else None,
                "train_seconds": record.train_seconds or 0.0,
                "budget_seconds": tuning.get("budget_seconds"),
            }
        )
    frame = pd.DataFrame(rows, columns=TRIAL_COLUMNS[:-2])
    if frame.empty:
        return pd.DataFrame(columns=TRIAL_COLUMNS)
    frame = frame.sort_values(["study", "trial"]).reset_index(drop=True)
    by_study = frame.groupby("study", sort=False)
    frame["cumulative_seconds"] = by_study["train_seconds"].cumsum()
    complete = frame["val_accuracy"].where(frame["state"] == "COMPLETE").astype(float)
    frame["best_so_far"] = complete.groupby(frame["study"]).cummax()
    frame["best_so_far"] = frame.groupby("study")["best_so_far"].ffill()
    return frame[TRIAL_COLUMNS]


def trial_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Per study: trials, complete, pruned, failed, the per-trial budget, the training seconds
    spent and the best validation accuracy found (for the leaderboard's tuning table)."""
    if frame.empty:
        columns = ["study", "dataset", "model", "trials", "complete", "pruned", "failed"]
        return pd.DataFrame(
            columns=[*columns, "budget_seconds", "train_seconds", "best_val_accuracy"]
        )
    grouped = frame.groupby(["study", "dataset", "model"], sort=True)
    counts = grouped.agg(
        trials=("trial", "size"),
        complete=("state", lambda s: int((s == "COMPLETE").sum())),
        pruned=("state", lambda s: int((s == "PRUNED").sum())),
        failed=("state", lambda s: int((s == "FAIL").sum())),
        budget_seconds=("budget_seconds", "max"),
        train_seconds=("train_seconds", "sum"),
        best_val_accuracy=("best_so_far", "max"),
    )
    return counts.reset_index()


def search_spread_frame(trials: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model) with studies of at least two search seeds: the seeds, the best
    validation accuracy of each study, the mean test accuracy of each seed's preset where it
    has run (NaN where not), and the spread (max - min, points) of each.

    The spread is the search's own variance: how much the tuned result depends on the search's
    draw rather than on the model (``summary`` is the aggregate's, indexed by dataset and
    label)."""
    rows = []
    for (dataset, model), part in trials.groupby(["dataset", "model"], sort=True):
        seeds = sorted(int(seed) for seed in part["search_seed"].unique())
        if len(seeds) < 2:
            continue
        best = part.groupby("search_seed")["best_so_far"].max()
        labels = [model_label(model, preset_name(seed)) for seed in seeds]
        test = [
            summary.at[(dataset, label), "accuracy"]
            if (dataset, label) in summary.index
            else np.nan
            for label in labels
        ]
        val = [float(best[seed]) for seed in seeds]
        rows.append(
            {
                "dataset": dataset,
                "model": model,
                "search_seeds": seeds,
                "best_val": val,
                "test": test,
                "val_spread": 100 * (max(val) - min(val)),
                "test_spread": 100 * (np.nanmax(test) - np.nanmin(test))
                if np.isfinite(test).sum() >= 2
                else np.nan,
            }
        )
    columns = ["dataset", "model", "search_seeds", "best_val", "test"]
    return pd.DataFrame(rows, columns=[*columns, "val_spread", "test_spread"])


def tuned_note(results_dir: Path, record: RunRecord) -> str | None:
    """``bench tune, 20 trials of 60 s each (tpe, median pruning, search seed 0: 4 pruned, 0
    failed)`` for a tuned preset's record; None for any other record or a missing preset."""
    if not is_tuned(record.preset):
        return None
    path = preset_path(results_dir, record.dataset, record.model, search_seed_of(record.preset))
    try:
        preset = read_preset(path)
    except BenchError:
        return None
    budget, trials = preset.get("budget") or {}, preset.get("trials") or {}
    return (
        f"bench tune, {budget.get('trials')} trials of {budget.get('trial_seconds'):g} s each "
        f"({preset.get('sampler')}, {preset.get('pruner')} pruning, search seed "
        f"{preset.get('search_seed')}: {trials.get('pruned', 0)} pruned, "
        f"{trials.get('failed', 0)} failed)"
    )
