"""Records in, tables out: every number the leaderboard shows, as pandas DataFrames.

Pure: no clock, no files, no figures; the same records always give the same frames (the
bootstraps use fixed seeds). :func:`aggregate` builds all of them at once; the markdown and
the figures only format and draw what is here, and decide nothing (the order of models, which
interval a cell shows, which run looks disturbed and which pairs are tested are decided here).

Accuracy intervals: the mean over seeds and test images with the t-interval of the crossed
seeds x images model (:func:`bench.results.stats.crossed.crossed_mean_interval`), the same
variance model the pairwise verdicts use, for seeded and deterministic models alike; the
seed-to-seed spread is its own column (``acc_seed_sd``). Other metrics: Student's t over seeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from bench.core.spec import DEFAULT_PRESET, model_label
from bench.measure.metrics import METRICS, MetricSpec
from bench.results.export.flatten import run_row
from bench.results.report.frames_backends import backend_frame
from bench.results.report.frames_detail import (
    calibration_frame,
    history_frame,
    per_class_frame,
    pooled_confusion,
    recorded_time_to_accuracy,
    reliability_bins,
    time_to_accuracy_frame,
)
from bench.results.report.frames_recommend import best_on, recommendation_frame
from bench.results.report.frames_reference import published_frame, replication_frames
from bench.results.report.frames_robustness import robustness_frames
from bench.results.report.frames_tuning import RACES, race_label
from bench.results.stats.crossed import MeanInterval, crossed_mean_interval
from bench.results.stats.intervals import ALPHA, holm_adjust, t_interval, wilson_interval
from bench.results.stats.pairwise import (
    Answers,
    NotComparable,
    compare_models,
    correctness,
    ranked_pairs,
    verdict_words,
)
from bench.results.stats.speed import SPEED_COLUMNS, speed_summary
from bench.results.store.record import RunRecord
from bench.results.store.seeds import seed_independent_groups

BUSY_PEAK_SHORTFALL = 0.25
"""A run whose matmul peak, measured at its start, falls this far below the median peak of the
runs on the same host is flagged "machine busy": its timings are suspect."""


@dataclass
class Aggregates:
    """Every frame of a report, built once from the current records."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    datasets: pd.DataFrame
    order: dict[str, list[str]]
    races: dict[tuple[str, str], list[str]]
    """Per (dataset, race), the race's labels best first (:func:`race_orders`)."""
    pairwise: pd.DataFrame
    differences: dict[str, pd.DataFrame]
    time_to_accuracy: pd.DataFrame
    per_class: pd.DataFrame
    calibration: pd.DataFrame
    reliability: dict[str, dict[str, dict[str, list]]]
    history: pd.DataFrame
    confusion: dict[str, dict[str, np.ndarray]]
    robustness: pd.DataFrame
    corruptions: pd.DataFrame
    replication_epochs: pd.DataFrame
    replication_diagonal: pd.DataFrame
    published: pd.DataFrame
    cross_dataset: pd.DataFrame
    verdicts: pd.DataFrame
    failed: pd.DataFrame
    environment: pd.DataFrame
    notes: pd.DataFrame
    backends: pd.DataFrame
    not_compared: list[str] = field(default_factory=list)
    recommendations: pd.DataFrame = field(default_factory=pd.DataFrame)
    extra: dict[str, Any] = field(default_factory=dict)
    """Frames that report sections build themselves (``Section.build``), by section id."""
    answers: Answers = field(default_factory=Answers)
    """The runs' test answers as arrays, read once here and shared with the sections' builds."""

    def frame(self, name: str) -> Any:
        """The frame called ``name``: a field of this class or a section's own frame."""
        if name in self.extra:
            return self.extra[name]
        if name in _FIELD_NAMES:
            return getattr(self, name)
        raise KeyError(f"no frame {name!r} in the aggregate")


_FIELD_NAMES = {f.name for f in fields(Aggregates)}


def aggregate(records: Iterable[RunRecord], robustness_baseline: str | None = None) -> Aggregates:
    """Build every frame from ``records`` (ok and failed; stale ones already left out).

    The frames do not depend on the order of ``records``.
    """
    records = sorted(records, key=lambda r: (r.dataset, r.label, r.seed, r.finished_at))
    every_ok = [r for r in records if r.ok]
    # Runs that validated on the test set (the tutorial's protocol) are a replication, not
    # part of the race: they appear in the Replication section only.
    ok = [r for r in every_ok if r.dataset_info.get("protocol") != REPLICATION_PROTOCOL]
    runs = run_frame(ok)
    datasets = dataset_frame(ok)
    answers = Answers()
    summary = summary_frame(runs, datasets.index.tolist(), accuracy_intervals(ok, answers))
    order = model_order(summary)
    races = race_orders(summary, order)
    pairwise, not_compared = pairwise_frame(ok, races, answers)
    # a clock read on a busy machine says nothing about the model: busy runs time nothing
    quiet = set(runs.loc[~runs["busy"], "run_id"])
    tta = time_to_accuracy_frame([r for r in ok if r.run_id in quiet], datasets, order)
    calibration = calibration_frame(runs)
    robustness, corruptions = robustness_frames(ok, order, robustness_baseline)
    epochs, diagonal = replication_frames(every_ok)
    verdicts = verdict_frame(summary, pairwise, tta, calibration, races)
    reliability = reliability_bins(ok)
    return Aggregates(
        runs=runs,
        summary=summary,
        datasets=datasets,
        order=order,
        races=races,
        pairwise=pairwise,
        differences={d: difference_matrix(runs, d, labels) for d, labels in order.items()},
        time_to_accuracy=tta,
        per_class=per_class_frame(ok, order),
        calibration=calibration,
        reliability=reliability,
        history=history_frame(ok),
        confusion=pooled_confusion(ok),
        robustness=robustness,
        corruptions=corruptions,
        replication_epochs=epochs,
        replication_diagonal=diagonal,
        published=published_frame(ok, summary),
        cross_dataset=cross_dataset_frame(summary),
        verdicts=verdicts,
        failed=failed_frame(records),
        environment=environment_frame(records),
        notes=notes_frame(ok),
        backends=backend_frame(ok, summary, answers),
        not_compared=not_compared,
        recommendations=recommendation_frame(
            summary, pairwise, tta, calibration, reliability, races
        ),
        answers=answers,
    )


# --- datasets and runs ----------------------------------------------------------------------


REPLICATION_PROTOCOL = "test-as-validation"
LEADING_DATASETS = ("mnist", "fashion_mnist")
"""The datasets the benchmark is about, in the order the report shows them; any other
dataset follows them alphabetically (the dataset registry lists names alphabetically)."""


def dataset_order(names: Iterable[str]) -> list[str]:
    """Datasets in report order: :data:`LEADING_DATASETS` first, then the rest alphabetically.

    Example
    -------
    >>> dataset_order(["digits", "fashion_mnist", "mnist"])
    ['mnist', 'fashion_mnist', 'digits']
    """
    lead = {name: i for i, name in enumerate(LEADING_DATASETS)}
    return sorted(set(names), key=lambda n: (lead.get(n, len(lead)), n))


def dataset_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per dataset (in :func:`dataset_order`): title, classes, sizes, targets, protocol.

    Descriptions come from the newest record of the dataset; the title falls back to the name.
    """
    newest: dict[str, RunRecord] = {}
    for record in sorted(records, key=lambda r: r.finished_at):
        newest[record.dataset] = record
    rows = []
    for name in dataset_order(newest):
        record = newest[name]
        info = record.dataset_info
        targets = info.get("accuracy_targets")
        if not targets:  # older records: the targets their runs reached
            keys = {k for r in records if r.dataset == name for k in recorded_time_to_accuracy(r)}
            targets = sorted(float(k) for k in keys)
        rows.append(
            {
                "dataset": name,
                "title": info.get("title") or _registered_title(name),
                "class_names": list(info.get("class_names") or []),
                "n_train": record.n_train,
                "n_val": record.n_val,
                "n_test": record.n_test or len(record.test_labels),
                "targets": [float(t) for t in targets],
                "protocols": sorted(
                    {
                        str(r.dataset_info.get("protocol") or "-")
                        for r in records
                        if r.dataset == name
                    }
                ),
                "runs": sum(r.dataset == name for r in records),
            }
        )
    return pd.DataFrame(rows, columns=_DATASET_COLUMNS).set_index("dataset")


def _registered_title(name: str) -> str:
    """The registry's display name of a dataset (records made before titles were stored)."""
    from bench.data import get_entry

    try:
        return getattr(get_entry(name), "display_name", "") or name
    except Exception:  # an unregistered dataset: its slug is the best name there is
        return name


_DATASET_COLUMNS = [
    "dataset",
    "title",
    "class_names",
    "n_train",
    "n_val",
    "n_test",
    "targets",
    "protocols",
    "runs",
]


def run_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per ok record: identity, quality, calibration, speed, host, busy flag.

    Each row is the export's flat row of the record (:func:`run_row`, the one reader of a
    record's fields) under the report's names, plus what only the report derives: the timing
    host, the race, and the busy flag from the run's load probe."""
    independent = seed_independent_groups(records)
    rows = []
    for record in records:
        flat = run_row(record)
        forward = flat["forward_flops_per_sample"]
        rows.append(
            {
                "dataset": flat["dataset"],
                "model": flat["label"],
                "registered": flat["model"],
                "defaults_label": model_label(flat["model"], DEFAULT_PRESET, record.run.backend),
                "seed": flat["seed"],
                "run_id": flat["run_id"],
                "finished_at": flat["finished_at"],
                "params": flat["parameters"],
                "mflops": None if forward is None else forward / 1e6,
                "accuracy": flat["accuracy"],
                "n_test": flat["n_test"],
                "n_correct": int(round(flat["accuracy"] * flat["n_test"])),
                **{name: flat.get(name) for name in table_metric_names()},
                **{name: flat[name] for name in _SAME_NAME_COLUMNS},
                "peak_gflops": flat["load_probe_gflops"],
                "phases": {
                    name.removeprefix("phase."): seconds
                    for name, seconds in flat.items()
                    if name.startswith("phase.")
                },
                "host": timing_host(record),
                "deterministic": (record.dataset, record.label) in independent,
                "tuning": flat["tuning"] or "",
                "overridden": flat["overridden"] or "",
                "family": flat["family"] or "",
                "backend": flat["runs_on"],
                "race": race_label(record),
                "label_smoothing": float(record.config.get("label_smoothing") or 0.0),
                "protocol": flat["protocol"] or "",
            }
        )
    metric_columns = table_metric_names()
    frame = pd.DataFrame(rows, columns=[*_RUN_COLUMNS, *metric_columns])
    frame = frame.astype({c: "float64" for c in [*_FLOAT_COLUMNS, *metric_columns]})
    frame["busy"] = _busy(frame)
    return frame


_SAME_NAME_FLOATS = (
    "train_seconds",
    "wall_seconds",
    "train_samples_per_s",
    "inference_samples_per_s",
    "latency_p50_ms",
    "latency_p99_ms",
    "train_gflops",
    "train_percent_of_peak",
)
_SAME_NAME_COLUMNS = (
    *_SAME_NAME_FLOATS,
    "peak_rss_mb",
    "latency_calls",
    "inference_passes",
    "num_classes",
)
"""Columns the report's run frame takes from the flat row under the same name."""


def table_metrics() -> list[MetricSpec]:
    """The registered metrics the tables show beside accuracy (which has its own interval
    column), in the order they were registered."""
    return [spec for spec in METRICS.in_registration_order() if spec.name != "accuracy"]


def table_metric_names() -> list[str]:
    """Names of :func:`table_metrics`."""
    return [spec.name for spec in table_metrics()]


_FLOAT_COLUMNS = ["mflops", *_SAME_NAME_FLOATS, "peak_gflops", "peak_rss_mb"]
_RUN_COLUMNS = [
    "dataset",
    "model",
    "registered",
    "defaults_label",
    "seed",
    "run_id",
    "finished_at",
    "params",
    "accuracy",
    "n_test",
    "n_correct",
    "latency_calls",
    "inference_passes",
    "host",
    "deterministic",
    "tuning",
    "overridden",
    "family",
    "backend",
    "race",
    "num_classes",
    "label_smoothing",
    "protocol",
    "phases",
    *_FLOAT_COLUMNS,
]


def timing_host(record: RunRecord) -> str:
    """Where a run's timings were taken: host and CPU, plus a Dask worker's thread budget."""
    env = record.environment or {}
    where = f"{env.get('hostname', '?')} ({env.get('cpu_model', '?')})"
    limits = (record.executor or {}).get("thread_limits") or {}
    threads = limits.get("TF_NUM_INTRAOP_THREADS")
    return f"{where}, {threads} thread(s) per run" if threads else where


def _busy(frame: pd.DataFrame) -> pd.Series:
    """True where a run's peak lies more than :data:`BUSY_PEAK_SHORTFALL` below its host's
    median peak (over every run of the report on that host)."""
    if frame.empty:
        return pd.Series([], dtype=bool)
    median = frame.groupby("host")["peak_gflops"].transform("median")
    return (frame["peak_gflops"] < (1 - BUSY_PEAK_SHORTFALL) * median).fillna(False)


# --- summary and order ----------------------------------------------------------------------


def accuracy_intervals(
    records: Sequence[RunRecord], answers: Answers | None = None
) -> dict[tuple[str, str], MeanInterval]:
    """Per (dataset, model): the interval of the mean accuracy over seeds and test images
    (:func:`bench.results.stats.crossed.crossed_mean_interval`)."""
    answers = answers or Answers()
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for r in records:
        groups.setdefault((r.dataset, r.label), []).append(r)
    result = {}
    for key, runs in groups.items():
        runs = sorted(runs, key=lambda r: r.seed)
        try:
            _, right = correctness(runs, answers)
        except NotComparable:  # seeds tested on different images: no common matrix
            continue
        result[key] = crossed_mean_interval(right)
    return result


def summary_frame(
    runs: pd.DataFrame,
    datasets: Sequence[str],
    intervals: dict[tuple[str, str], MeanInterval],
) -> pd.DataFrame:
    """One row per (dataset, model), best mean accuracy first within a dataset.

    ``accuracy`` is the mean over seeds and test images with ``acc_low``/``acc_high`` from
    ``intervals`` (:func:`accuracy_intervals`; ``acc_method`` names it) and ``acc_seed_sd``
    the standard deviation of the per-seed accuracies (NaN for one seed). Other quality
    metrics carry the t half-width (``*_hw``, NaN for one seed); training time, speeds and the
    matmul probe are medians with min and max over the runs not flagged busy (``timed_runs``).
    """
    rows = []
    for (dataset, model), part in runs.groupby(["dataset", "model"], sort=False):
        part = part.sort_values("seed")
        deterministic = bool(part["deterministic"].all())
        accuracy = float(part["accuracy"].mean())
        ci = intervals.get((dataset, model))
        low, high = (ci.low, ci.high) if ci else (np.nan, np.nan)
        method = "t over seeds and test images" if ci else "none: seeds on different images"
        if ci and len(part) == 1 and not deterministic:
            method += " (one seed: no seed level)"
        seed_sd = ci.seed_sd if ci and not deterministic else np.nan
        row = {
            "dataset": dataset,
            "model": model,
            "registered": part["registered"].iloc[0],
            "defaults_label": part["defaults_label"].iloc[0],
            "n_seeds": len(part),
            "seeds": part["seed"].tolist(),
            "accuracy": accuracy,
            "acc_low": low,
            "acc_high": high,
            "acc_method": method,
            "acc_seed_sd": seed_sd,
            "deterministic": deterministic,
            "params": part["params"].iloc[0],
            "mflops": part["mflops"].iloc[0],
            "tuning": part["tuning"].iloc[-1],
            "overridden": part["overridden"].iloc[-1],
            "family": part["family"].iloc[-1],
            "backend": part["backend"].iloc[-1],
            "race": part["race"].iloc[-1],
            "label_smoothing": part["label_smoothing"].iloc[-1],
            "chance_high": chance_bound(
                int(part["num_classes"].iloc[0]), int(part["n_test"].iloc[0])
            ),
            **_speeds(part),
            "train_gflops": part["train_gflops"].median(),
            "train_percent_of_peak": part["train_percent_of_peak"].median(),
            "busy_seeds": part.loc[part["busy"], "seed"].tolist(),
            "hosts": "; ".join(sorted(set(part["host"]))),
        }
        for spec in table_metrics():
            values = part[spec.name].dropna().tolist()
            interval = t_interval(values)
            middle = np.median if spec.aggregate == "median" else np.mean
            row[spec.name] = float(middle(values)) if values else np.nan
            # one model, one answer whatever the seed: a spread of 0 would claim false precision
            has_spread = interval is not None and not deterministic
            row[f"{spec.name}_hw"] = interval.half_width if interval and has_spread else np.nan
        rows.append(row)
    metric_columns = [f"{m}{suffix}" for m in table_metric_names() for suffix in ("", "_hw")]
    frame = pd.DataFrame(rows, columns=[*_SUMMARY_COLUMNS, *metric_columns])
    if frame.empty:
        empty = frame.assign(rank=pd.Series(dtype=int), chance=pd.Series(dtype=bool))
        return empty.set_index(["dataset", "model"])
    position = {name: i for i, name in enumerate(datasets)}
    frame["_d"] = frame["dataset"].map(position)
    frame["chance"] = frame["accuracy"] <= frame["chance_high"]
    frame = frame.sort_values(["_d", "accuracy", "model"], ascending=[True, False, True])
    frame["rank"] = frame.groupby("dataset").cumcount() + 1
    return frame.drop(columns="_d").set_index(["dataset", "model"])


def _speeds(part: pd.DataFrame) -> dict[str, float | int]:
    """The summary's speed columns from :func:`bench.results.stats.speed.speed_summary`
    (busy runs left out): ``train_s_median/min/max`` and, for the other speeds, the median
    under the run column's own name with ``_min``/``_max`` beside it."""
    speeds = speed_summary(part)
    result: dict[str, float | int] = {"timed_runs": speeds["timed_runs"]}
    for column, prefix in SPEED_COLUMNS.items():
        name = "train_s" if column == "train_seconds" else prefix
        middle = "train_s_median" if column == "train_seconds" else name
        result[middle] = speeds[f"{prefix}_median"]
        result[f"{name}_min"] = speeds[f"{prefix}_min"]
        result[f"{name}_max"] = speeds[f"{prefix}_max"]
    return result


_SUMMARY_COLUMNS = [
    "dataset",
    "model",
    "registered",
    "defaults_label",
    "n_seeds",
    "seeds",
    "accuracy",
    "acc_low",
    "acc_high",
    "acc_method",
    "acc_seed_sd",
    "deterministic",
    "params",
    "mflops",
    "tuning",
    "overridden",
    "family",
    "backend",
    "race",
    "label_smoothing",
    "chance_high",
    "train_s_median",
    "train_s_min",
    "train_s_max",
    "train_samples_per_s",
    "train_samples_per_s_min",
    "train_samples_per_s_max",
    "inference_samples_per_s",
    "inference_samples_per_s_min",
    "inference_samples_per_s_max",
    "latency_p50_ms",
    "latency_p50_ms_min",
    "latency_p50_ms_max",
    "probe_gflops",
    "probe_gflops_min",
    "probe_gflops_max",
    "timed_runs",
    "train_gflops",
    "train_percent_of_peak",
    "busy_seeds",
    "hosts",
]


def chance_bound(num_classes: int, n_test: int) -> float:
    """The upper end of the 95% Wilson interval of a classifier that guesses: ``1 / classes``
    right, on ``n_test`` images. A model whose mean accuracy is no higher learned nothing we
    can tell apart from guessing (it is flagged, and never named best at anything)."""
    chance = 1.0 / max(num_classes, 1)
    return wilson_interval(int(round(chance * n_test)), max(n_test, 1)).high


def model_order(summary: pd.DataFrame) -> dict[str, list[str]]:
    """Per dataset, model labels best first: mean accuracy down, then label (ties)."""
    order: dict[str, list[str]] = {}
    for dataset, model in summary.index:
        order.setdefault(dataset, []).append(model)
    return order


def race_orders(
    summary: pd.DataFrame, order: dict[str, list[str]]
) -> dict[tuple[str, str], list[str]]:
    """Per (dataset, race) that has runs, that race's labels best first.

    Only the two races of :data:`RACES` (at defaults, tuned at equal budget) are ranked and
    given verdicts; a rerun of another search seed (``mlp:tuned-s1``) measures the search's
    own variance and races in neither.
    """
    races: dict[tuple[str, str], list[str]] = {}
    for dataset, labels in order.items():
        for race in RACES:
            entrants = [m for m in labels if summary.at[(dataset, m), "race"] == race]
            if entrants:
                races[(dataset, race)] = entrants
    return races


# --- pairwise -------------------------------------------------------------------------------


def pairwise_frame(
    records: Sequence[RunRecord],
    races: dict[tuple[str, str], list[str]],
    answers: Answers | None = None,
    cross_check_seed: int | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Each model against the best of its race and against its neighbour in rank, for every
    (dataset, race) of ``races`` (:func:`race_orders`): a race's verdicts never weigh a model
    against an entrant of the other race.

    One row per test with the seed-level difference (points), its 95% interval, the p-value,
    the Holm-adjusted p-value over every test in the frame (all datasets: every test on the
    page), the verdict, the 80%-power resolution (``mdd``, points), and per common seed
    McNemar's exact p as detail. ``cross_check_seed`` adds the two-level bootstrap's p-value
    (``p_bootstrap``) with that resampling seed; no verdict reads it. Also returns the pairs
    that could not be compared, with the reason.
    """
    rows, skipped = [], []
    answers = answers or Answers()
    for (dataset, race), labels in races.items():
        mine = [r for r in records if r.dataset == dataset]
        for label_a, label_b, why in ranked_pairs(labels):
            try:
                pair = compare_models(
                    mine, label_a, label_b, dataset, False, answers, cross_check_seed
                )
            except NotComparable as reason:
                skipped.append(f"{label_a} vs {label_b} on {dataset}: {reason}")
                continue
            rows.append(
                {
                    "dataset": dataset,
                    "race": race,
                    "model_a": label_a,
                    "model_b": label_b,
                    "why": why,
                    "seeds_a": len(pair.seeds_a),
                    "seeds_b": len(pair.seeds_b),
                    "n_test": pair.n_test,
                    "diff": 100 * pair.difference.estimate,
                    "low": 100 * pair.difference.low,
                    "high": 100 * pair.difference.high,
                    "p": pair.p_value,
                    "df": pair.test.df,
                    "mdd": 100 * pair.minimum_detectable,
                    "p_bootstrap": pair.cross_check.p_value if pair.cross_check else np.nan,
                    "mcnemar": [(s.seed, s.only_a, s.only_b, s.p_value) for s in pair.per_seed],
                    "pair": pair,
                }
            )
    frame = pd.DataFrame(rows, columns=_PAIR_COLUMNS)
    frame["p_holm"] = holm_adjust(frame["p"].tolist())
    frame["verdict"] = [
        verdict_words(pair, p) for pair, p in zip(frame["pair"], frame["p_holm"], strict=True)
    ]
    frame["better"] = [
        pair.winner(p_value=p) for pair, p in zip(frame["pair"], frame["p_holm"], strict=True)
    ]
    return frame, skipped


_PAIR_COLUMNS = [
    "dataset",
    "race",
    "model_a",
    "model_b",
    "why",
    "seeds_a",
    "seeds_b",
    "n_test",
    "diff",
    "low",
    "high",
    "p",
    "df",
    "mdd",
    "p_bootstrap",
    "mcnemar",
    "pair",
]


def difference_matrix(runs: pd.DataFrame, dataset: str, order: Sequence[str]) -> pd.DataFrame:
    """Models x models: mean accuracy of the row minus the column's, in points (all pairs)."""
    means = runs[runs["dataset"] == dataset].groupby("model")["accuracy"].mean()
    values = means.reindex(list(order)).to_numpy()
    return pd.DataFrame(
        100 * (values[:, None] - values[None, :]), index=list(order), columns=list(order)
    )


# --- across datasets and verdicts -----------------------------------------------------------


def cross_dataset_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """Models x datasets: mean accuracy and rank on each, and the mean rank (best first).

    Empty with fewer than two datasets.
    """
    datasets = list(dict.fromkeys(summary.index.get_level_values("dataset")))
    if len(datasets) < 2:
        return pd.DataFrame()
    accuracy = summary["accuracy"].unstack("dataset")[datasets]
    ranks = summary["rank"].unstack("dataset")[datasets]
    frame = pd.concat({"accuracy": accuracy, "rank": ranks}, axis=1)
    frame[("mean_rank", "")] = ranks.mean(axis=1)
    frame[("n_datasets", "")] = ranks.notna().sum(axis=1)
    return frame.sort_values([("n_datasets", ""), ("mean_rank", "")], ascending=[False, True])


def verdict_frame(
    summary: pd.DataFrame,
    pairwise: pd.DataFrame,
    tta: pd.DataFrame,
    calibration: pd.DataFrame,
    races: dict[tuple[str, str], list[str]],
) -> pd.DataFrame:
    """One row per (dataset, race): the best model and its lead over the runner-up, the
    fastest model to the highest target any model reached on every seed, and the
    best-calibrated model, each within the race."""
    rows = []
    for (dataset, race), every in races.items():
        # a model at chance level is never named best at anything
        labels = [m for m in every if not summary.at[(dataset, m), "chance"]]
        if not labels:
            rows.append({"dataset": dataset, "race": race, "best": None, "runner_up": None})
            continue
        best = summary.loc[(dataset, labels[0])]
        row: dict[str, Any] = {
            "dataset": dataset,
            "race": race,
            "best": labels[0],
            "best_accuracy": best["accuracy"],
            "best_low": best["acc_low"],
            "best_high": best["acc_high"],
            "best_seeds": best["n_seeds"],
            "runner_up": labels[1] if len(labels) > 1 else None,
            "lead": np.nan,
            "lead_low": np.nan,
            "lead_high": np.nan,
            "runner_up_seeds": np.nan,
            "lead_verdict": "",
            "target": np.nan,
            "fastest": None,
            "fastest_s": np.nan,
            "best_calibrated": None,
            "best_ece": np.nan,
        }
        if len(labels) > 1:
            match = pairwise[
                (pairwise["dataset"] == dataset)
                & (pairwise["model_a"] == labels[0])
                & (pairwise["model_b"] == labels[1])
            ]
            if len(match):
                test = match.iloc[0]
                row.update(
                    lead=test["diff"],
                    lead_low=test["low"],
                    lead_high=test["high"],
                    runner_up_seeds=test["seeds_b"],
                    lead_verdict=test["verdict"],
                )
        everyone = tta[
            (tta["dataset"] == dataset)
            & (tta["reached"] == tta["n_seeds"])
            & (tta["n_seeds"] > 0)
            & tta["model"].isin(labels)
        ]
        if len(everyone):
            top = everyone["target"].max()
            at_top = everyone[everyone["target"] == top].sort_values(["median_s", "model"])
            row.update(
                target=top, fastest=at_top.iloc[0]["model"], fastest_s=at_top.iloc[0]["median_s"]
            )
        calibrated = calibration[
            (calibration["dataset"] == dataset)
            & calibration["ece"].notna()
            & calibration["model"].isin(labels)
        ]
        if len(calibrated):
            winner = best_on(calibrated, "ece")
            row.update(best_calibrated=winner["model"], best_ece=winner["ece"])
        rows.append(row)
    return pd.DataFrame(rows, columns=_VERDICT_COLUMNS)


_VERDICT_COLUMNS = [
    "dataset",
    "race",
    "best",
    "best_accuracy",
    "best_low",
    "best_high",
    "best_seeds",
    "runner_up",
    "lead",
    "lead_low",
    "lead_high",
    "runner_up_seeds",
    "lead_verdict",
    "target",
    "fastest",
    "fastest_s",
    "best_calibrated",
    "best_ece",
]


# --- appendix frames ------------------------------------------------------------------------


def failed_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """Runs that failed, with the reason."""
    rows = [
        {"model": r.label, "dataset": r.dataset, "seed": r.seed, "reason": str(r.error or "?")}
        for r in records
        if not r.ok
    ]
    return pd.DataFrame(rows, columns=["model", "dataset", "seed", "reason"])


def environment_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """The distinct machines and library versions the records were made with, and by whom."""
    seen: dict[tuple, set[str]] = {}
    for r in records:
        env = r.environment
        if not env:  # a run lost with its worker has no environment to show
            continue
        libs = env.get("libraries", {})
        frameworks = "; ".join(
            f"{name} {libs[name]}" for name in FRAMEWORK_LIBRARIES if libs.get(name)
        )
        key = (
            env.get("cpu_model"),
            env.get("usable_cores"),
            _accelerator(env),
            env.get("python"),
            frameworks or "-",
            libs.get("numpy"),
        )
        seen.setdefault(key, set()).add(r.label)
    columns = ["CPU", "Cores", "Device used", "Python", "Frameworks", "NumPy", "Models"]
    rows = [[*key, ", ".join(sorted(models))] for key, models in seen.items()]
    return pd.DataFrame(rows, columns=columns)


FRAMEWORK_LIBRARIES = ("tensorflow", "keras", "jax", "torch", "scikit-learn")
"""The libraries a model trains with, in the order the environment table names them."""


def _accelerator(env: dict[str, Any]) -> str:
    """The device a run trained on, whatever its framework: the framework's own device when it
    names one (PyTorch), else the GPUs TensorFlow could use, else the CPU."""
    framework = env.get("framework") or {}
    device = str(framework.get("device") or "cpu")
    if device != "cpu":
        return str(framework.get("device_name") or device)
    gpus = env.get("tensorflow_gpus")
    return ", ".join(gpus) if gpus else "CPU"


def notes_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """Every distinct note of the runs, per (dataset, model), with the seeds that carry it."""
    seeds: dict[tuple[str, str, str], list[int]] = {}
    for r in records:
        for note in r.notes:
            seeds.setdefault((r.dataset, r.label, note), []).append(r.seed)
    rows = [
        {"dataset": d, "model": m, "note": n, "seeds": sorted(s)} for (d, m, n), s in seeds.items()
    ]
    return pd.DataFrame(rows, columns=["dataset", "model", "note", "seeds"])


__all__ = ["ALPHA", "BUSY_PEAK_SHORTFALL", "Aggregates", "aggregate"]
