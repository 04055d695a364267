"""``bench tune``: tune every named model at one equal budget, on the validation split only."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.commands.models_from import add_models_from_option
from bench.results.store.files import DEFAULT_RESULTS_DIR

EXAMPLES = """examples:
  python -m bench tune --model logreg,knn --dataset digits --trials 10 --trial-budget 5
  python -m bench tune --model mlp --dataset mnist --trials 24 --trial-budget 60 --resume
  python -m bench tune --model knn --dataset mnist --trials 24 --search-seed 0,1
  python -m bench run --model mlp:tuned           (then run the best config found)
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench tune``."""
    parser = subparsers.add_parser(
        "tune",
        help="search each model's declared space at an equal budget (validation split only)",
        description="One Optuna search per model and search seed, ask-and-tell, stored in "
        "RESULTS/tuning/studies.sqlite3 (--resume continues it). Every model gets the same "
        "number of trials and the same cap on each trial's training seconds; a trial at the "
        "cap stops and is scored on the validation split there. Trials are runs (records in "
        "RESULTS/tuning/DATASET/MODEL/runs/) that never see the test set. The best config "
        "becomes the preset MODEL:tuned (RESULTS/tuning/DATASET/MODEL.json).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model name(s), comma-separated")
    parser.add_argument("--dataset", default="mnist", help="dataset to tune on (default mnist)")
    parser.add_argument("--trials", type=int, required=True, help="trials per model and seed")
    parser.add_argument(
        "--trial-budget",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="cap on each trial's training seconds (default 60)",
    )
    parser.add_argument("--sampler", default="tpe", choices=("tpe", "random"))
    parser.add_argument("--pruner", default="median", choices=("median", "hyperband", "none"))
    parser.add_argument(
        "--search-seed",
        default="0",
        metavar="K[,K2]",
        help="search seed(s); two or more give the search's own spread (default 0)",
    )
    parser.add_argument("--executor", default="local", choices=("local", "dask"))
    parser.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
    parser.add_argument("--limit-train", type=int, help="train each trial on this many images")
    parser.add_argument("--data-dir", help="folder holding the dataset's IDX files")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="continue the stored study")
    group.add_argument("--restart", action="store_true", help="discard the stored study first")
    parser.add_argument("--track", choices=("mlflow",), help="log the study to MLflow")
    parser.add_argument("--tracking-uri", help="MLflow store (default RESULTS/mlflow/mlflow.db)")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS_DIR,
        help=f"results folder (default {DEFAULT_RESULTS_DIR})",
    )
    add_models_from_option(parser)
    parser.set_defaults(handler=handle_tune)


def parse_seeds(text: str) -> list[int]:
    """``"0,1"`` -> ``[0, 1]``; a clear error for anything else."""
    from bench.core.errors import BenchError

    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise BenchError(
            f"--search-seed expects whole numbers like 0 or 0,1; got {text!r}"
        ) from None
    if not seeds or any(seed < 0 for seed in seeds):
        raise BenchError(f"--search-seed expects whole numbers of 0 or more; got {text!r}")
    return list(dict.fromkeys(seeds))


def handle_tune(args: argparse.Namespace) -> int:
    """Check everything, then run one study per model and search seed; write tuned presets."""
    from bench.core.errors import BenchError
    from bench.data import load_dataset
    from bench.models.registry import get_model
    from bench.tune.batches import trial_runner
    from bench.tune.budget import checked_budget
    from bench.tune.preset import write_preset
    from bench.tune.report import study_lines
    from bench.tune.spaces import checked_space
    from bench.tune.study import StudySettings, check_start, run_study
    from bench.tune.tracking import open_study_tracker

    try:
        import optuna  # noqa: F401
    except ImportError:
        raise BenchError("bench tune needs Optuna: pip install 'mnist-bench[tune]'") from None
    budget = checked_budget(args.trials, args.trial_budget)
    seeds = parse_seeds(args.search_seed)
    names = [name.strip() for name in args.model.split(",") if name.strip()]
    if not names:
        raise BenchError("--model names no model (e.g. --model mlp,logreg)")
    specs = [get_model(name) for name in names]  # unknown names: exit 2, with close matches
    for spec in specs:
        checked_space(spec)
    if args.limit_train is not None and args.limit_train < 1:
        raise BenchError(
            f"--limit-train must be a positive number of images, got {args.limit_train}"
        )
    studies = [
        StudySettings(
            model=spec.name,
            dataset=args.dataset,
            budget=budget,
            sampler=args.sampler,
            pruner=args.pruner,
            search_seed=seed,
            limit_train=args.limit_train,
            data_dir=args.data_dir,
        )
        for spec in specs
        for seed in seeds
    ]
    for settings in studies:
        check_start(
            settings, get_model(settings.model), args.results_dir, args.resume, args.restart
        )
    dataset = load_dataset(args.dataset, args.data_dir)
    say(f"data: {dataset.name} from {dataset.source}, SHA-256 verified")
    say(
        f"budget: {budget.describe()} of training, per model and search seed; "
        f"sampler {args.sampler}, pruner {args.pruner}"
    )
    with (
        open_study_tracker(args.track, args.results_dir, args.tracking_uri) as tracker,
        trial_runner(args.executor, say, args.scheduler) as (run_batch, batch_size),
    ):
        for settings in studies:
            say(f"study {settings.name}: {budget.trials} trials, {batch_size} at a time")
            with tracker.study(settings) as on_trial:
                result = run_study(
                    settings,
                    args.results_dir,
                    run_batch,
                    batch_size,
                    resume=args.resume,
                    restart=args.restart,
                    say=say,
                    on_trial=on_trial,
                )
            spec = get_model(settings.model)
            path = write_preset(settings, spec, result, args.results_dir)
            for line in study_lines(result, budget):
                say(line)
            say(f"tuned preset written to {path}")
    for line_ in spread_lines(args.results_dir, args.dataset, names):
        say(line_)
    return 0


def spread_lines(results_dir: Path, dataset: str, names: list[str]) -> list[str]:
    """The search's own spread, for every model tuned with two or more search seeds."""
    from bench.tune.report import search_spread

    frame = search_spread(results_dir, dataset, names)
    return [
        f"{row.model}: best validation accuracy over {row.seeds} search seeds "
        f"{row.min:.4f}-{row.max:.4f} (spread {100 * (row.max - row.min):.2f} points)"
        for row in frame.itertuples()
        if row.seeds >= 2
    ]


def say(line: str) -> None:
    """Print one progress line at once."""
    print(line, flush=True)
