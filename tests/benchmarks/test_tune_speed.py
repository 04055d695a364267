"""What ``bench tune`` costs and saves: harness cost per trial against a bare Optuna loop,
pruning's savings on a 20-trial mlp study, and Dask throughput with two workers against one.

Each measures and reports (``extra_info`` in the benchmark JSON, and a printed line); none
fails on a missed target (10% harness cost, 30% of training seconds saved by pruning within
0.1 points of the best accuracy, 1.7x throughput). Sizes come from the environment so the
pruning study can run on a subset: ``TUNE_BENCH_TRIALS`` (20), ``TUNE_BENCH_TRIAL_SECONDS``
(30), ``TUNE_BENCH_TRAIN_IMAGES`` (all). With ``--benchmark-disable`` (CI) every body runs
once on digits with a few short trials.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

pytest.importorskip("optuna", reason="pip install 'mnist-bench[tune]'")

from bench.data import load_dataset  # noqa: E402
from bench.tune.budget import Budget  # noqa: E402
from bench.tune.study import StudySettings, run_study  # noqa: E402

COST_MODEL = "logreg"
COST_TRIALS = 8
COST_TRAIN_IMAGES = 10_000
MAX_HARNESS_COST = 0.10
MIN_PRUNING_SAVING = 0.30
MIN_SCALE_OUT = 1.7


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _local_batches(runs, folder):
    from bench.run.executors.local import run_in_process

    return run_in_process(runs, folder, say=lambda _: None)


def _bare_loop(dataset: str, trials: int, limit_train: int | None, seed: int) -> float:
    """Wall seconds of a bare Optuna loop: the same sampler, seed and space, the same model
    fitted on the same training split and scored on the same validation split, in memory."""
    import optuna
    from sklearn.metrics import accuracy_score

    from bench.data import get_entry
    from bench.data.split import validation_split
    from bench.models.registry import get_model
    from bench.tune.spaces import distributions, trial_config
    from bench.tune.study import make_sampler, sampler_seed

    spec = get_model(COST_MODEL)
    data = load_dataset(dataset)
    start = time.perf_counter()
    split = validation_split(data.x_train, data.y_train, get_entry(dataset).validation_size)
    x, y = spec.preprocess(split.x_train[:limit_train]), split.y_train[:limit_train]
    x_val = spec.preprocess(split.x_val)
    study = optuna.create_study(
        direction="maximize", sampler=make_sampler("random", sampler_seed(seed, 0))
    )
    dists = distributions(dict(spec.space))
    for _ in range(trials):
        trial = study.ask(dists)
        model = spec.build(trial_config(spec, trial.params), x.shape[1:], 10)
        model.set_params(random_state=seed)
        model.fit(x, y)
        study.tell(trial, accuracy_score(split.y_val, model.predict(x_val)))
    return time.perf_counter() - start


def test_harness_cost_per_trial_against_a_bare_optuna_loop(benchmark, tmp_path, quick):
    """Both loops draw the same configs (random sampler, same seed) and fit the same model on
    the same split; the harness adds run records, trial plans, the SQLite study and its
    checks. Reported: the harness's extra wall time as a share of the bare loop's."""
    dataset, trials = ("digits", 3) if quick else ("mnist", COST_TRIALS)
    limit = None if quick else COST_TRAIN_IMAGES
    seconds: dict[str, float] = {}

    def one_round() -> None:
        bare = _bare_loop(dataset, trials, limit, 0)
        settings = StudySettings(
            COST_MODEL, dataset, Budget(trials, 60.0), "random", "none", 0, limit
        )
        start = time.perf_counter()
        run_study(settings, tmp_path / f"r{len(seconds)}", _local_batches, say=lambda _: None)
        seconds["harness"] = time.perf_counter() - start
        seconds["bare"] = bare

    benchmark.pedantic(one_round, rounds=1)
    cost = seconds["harness"] / seconds["bare"] - 1
    benchmark.extra_info.update(
        harness_seconds=round(seconds["harness"], 3),
        bare_seconds=round(seconds["bare"], 3),
        harness_cost=round(cost, 4),
        target=MAX_HARNESS_COST,
        met=cost <= MAX_HARNESS_COST,
        trials=trials,
        dataset=dataset,
    )
    print(f"harness cost per trial: {100 * cost:.1f}% over a bare Optuna loop ({trials} trials)")


def _study(results: Path, dataset: str, pruner: str, trials: int, budget: float, limit):
    settings = StudySettings("mlp", dataset, Budget(trials, budget), "tpe", pruner, 0, limit)
    return run_study(settings, results, _local_batches, say=lambda _: None)


def test_pruning_saves_training_seconds_on_a_20_trial_mlp_study(benchmark, tmp_path, quick):
    """The same seeded TPE study of mlp with the median pruner and without; reported: the
    share of training seconds saved and the gap between the two best validation accuracies."""
    if quick:
        dataset, trials, budget, limit = "digits", 6, 2.0, None
    else:
        dataset = "mnist"
        trials = _env_int("TUNE_BENCH_TRIALS", 20)
        budget = float(os.environ.get("TUNE_BENCH_TRIAL_SECONDS", 30))
        limit = os.environ.get("TUNE_BENCH_TRAIN_IMAGES")
        limit = int(limit) if limit else None
    outcome = {}

    def one_round() -> None:
        outcome["none"] = _study(tmp_path / "none", dataset, "none", trials, budget, limit)
        outcome["median"] = _study(tmp_path / "median", dataset, "median", trials, budget, limit)

    benchmark.pedantic(one_round, rounds=1)
    plain, pruned = outcome["none"], outcome["median"]
    saving = 1 - pruned.train_seconds() / plain.train_seconds()
    gap = (plain.best.value - pruned.best.value) * 100 if plain.best and pruned.best else None
    benchmark.extra_info.update(
        train_seconds_without=round(plain.train_seconds(), 2),
        train_seconds_with=round(pruned.train_seconds(), 2),
        saving=round(saving, 4),
        best_gap_points=None if gap is None else round(gap, 3),
        pruned_trials=pruned.count("PRUNED"),
        target_saving=MIN_PRUNING_SAVING,
        met=saving >= MIN_PRUNING_SAVING and gap is not None and gap <= 0.1,
        trials=trials,
        trial_seconds=budget,
        train_images=limit,
    )
    print(
        f"pruning: {100 * saving:.0f}% of training seconds saved, {pruned.count('PRUNED')} "
        f"pruned, best validation accuracy {gap:+.2f} points against no pruning"
    )


def test_two_dask_workers_against_one(benchmark, tmp_path, quick):
    """Trial throughput of one study on a local Dask cluster of 2 one-thread workers against 1
    (cluster start-up excluded)."""
    from bench.tune.batches import trial_runner

    trials = 4 if quick else 12
    rates = {}

    def study_on(workers: int) -> None:
        settings = StudySettings("knn", "digits", Budget(trials, 5.0), "random", "none", workers)
        with trial_runner("dask", lambda _: None, workers=workers) as (run_batch, slots):
            start = time.perf_counter()
            run_study(settings, tmp_path / f"w{workers}", run_batch, slots, say=lambda _: None)
            rates[workers] = trials / (time.perf_counter() - start)

    benchmark.pedantic(lambda: (study_on(1), study_on(2)), rounds=1)
    ratio = rates[2] / rates[1]
    benchmark.extra_info.update(
        trials_per_s_one_worker=round(rates[1], 3),
        trials_per_s_two_workers=round(rates[2], 3),
        scale_out=round(ratio, 3),
        target=MIN_SCALE_OUT,
        met=ratio >= MIN_SCALE_OUT,
    )
    print(f"Dask: {ratio:.2f}x the trials per second with 2 workers against 1")
