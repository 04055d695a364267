"""``bench run``: train and measure models, write one record per run, refresh the leaderboard."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bench.commands.models_from import add_models_from_option
from bench.run.options import OPTIONS, run_fields

if TYPE_CHECKING:
    from bench.core.spec import RunSpec

EPILOG = """examples:
  python -m bench run --all                      every model at its defaults on MNIST
  python -m bench run --model mlp,logreg --seed 1
  python -m bench run --model article_cnn:quick --set epochs=2
  python -m bench run --all --quick              smoke run: quick presets, fewer images
  python -m bench run --all --repeats 3 --resume seeds 0,1,2; skip runs already done
  python -m bench run --all --robustness         also score the 15 MNIST-C corruptions
  python -m bench run --all --repeats 5 --executor dask --scheduler tcp://HOST:8786
  python -m bench run --config sweep.toml --seed 3   a sweep file; flags win over it
  python -m bench run --model mlp --track mlflow     also log each run to MLflow
  python -m bench run --model mlp --save-model       keep the model and its ONNX export

A sweep file (TOML; see README "Sweep files") names models, datasets, seeds, --set values and
options; any flag given on the command line overrides the file's value.
  python -m bench run --model cnn_fast --backend tensorflow,jax,torch --dataset digits
  python -m bench run --models-from my_models.py --model my_cnn --set device=cuda
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench run``."""
    parser = subparsers.add_parser(
        "run",
        help="train and measure models, write run records and the leaderboard",
        description="Train each chosen model, measure it, and write results/runs/<run-id>/"
        "record.json per run, then regenerate results/LEADERBOARD.md.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", default=None, help="run every model")
    parser.add_argument(
        "--preset",
        metavar="NAME",
        help="run every selected model at this preset, e.g. --all --preset tuned (the configs "
        "bench tune found for each dataset)",
    )
    which.add_argument(
        "--model",
        metavar="NAMES",
        help="comma-separated models, each NAME or NAME:PRESET; wildcards allowed ('mlp*')",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="sweep file (TOML) naming models, datasets, seeds, --set values and options; "
        "flags given here override it",
    )
    parser.add_argument("--dataset", help="comma-separated datasets (default: mnist)")
    parser.add_argument("--seed", type=int, help="random seed (default: 0)")
    parser.add_argument(
        "--backend",
        metavar="NAMES",
        help="comma-separated Keras backends to run each Keras model on: tensorflow, jax, "
        "torch (default: tensorflow); each backend's runs train in a process of their own. "
        "Models of other families (scikit-learn, PyTorch) run once and ignore it",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        metavar="K",
        help="run each model with K seeds: SEED, SEED+1, ..., SEED+K-1 (default: 1)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value for every model that has KEY, or MODEL.KEY=VALUE "
        "for one model; repeatable",
    )
    for option in OPTIONS:  # --quick, --limit-train, ... --tracking-uri: declared once there
        option.add_to(parser)
    parser.add_argument(
        "--robustness",
        action="store_true",
        default=None,
        help="after training, score each model on corrupted copies of the test set (our "
        "MNIST-C corruptions; see docs/robustness.md)",
    )
    parser.add_argument(
        "--robustness-from",
        metavar="DIR",
        help="like --robustness, but with the published MNIST-C files from DIR "
        "(DIR/<corruption>/test_images.npy and test_labels.npy)",
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        default=None,
        help="do not regenerate LEADERBOARD.md afterwards",
    )
    parser.add_argument(
        "--track",
        action="append",
        metavar="NAME",
        help="also log each finished run to a tracker: 'mlflow' (pip install "
        "'mnist-bench[mlflow]') or 'tensorboard'; repeatable or comma-separated",
    )
    add_models_from_option(parser)
    parser.set_defaults(handler=handle_run)


def handle_run(args: argparse.Namespace) -> int:
    """Check everything, execute the runs, write the leaderboard, say where everything went."""
    from bench.core.spec import split_model_ref
    from bench.results.tracking import open_trackers, tracker_names
    from bench.run.executors import EXECUTORS
    from bench.run.preflight import check_sweep, fitting_runs
    from bench.run.saved_model import native_model
    from bench.run.selection import build_runs
    from bench.run.sweep import resolve_sweep, save_sweep

    sweep = resolve_sweep(args)
    results_dir = sweep.results_dir
    executor = EXECUTORS.get(sweep.executor or ("dask" if sweep.scheduler else "local"))
    trackers = tracker_names(sweep.track)
    models = all_installed_models() if sweep.models is None else sweep.models
    if getattr(args, "preset", None):  # --all --preset tuned: every model at that preset
        models = [f"{split_model_ref(m)[0]}:{args.preset}" for m in models]
    runs = build_runs(
        models,
        sweep.datasets,
        sweep.seeds,
        sweep.overrides,
        quick=sweep.quick,
        robustness=sweep.robustness,
        **run_fields(sweep),
        backends=sweep.backends,
        results_dir=results_dir,
    )
    if sweep.models is None:  # --all: every model that fits the data, the others named
        runs = fitting_runs(runs, say)
    check_sweep(
        runs,
        results_dir,
        scheduler=sweep.scheduler,
        takes_scheduler=executor.takes_scheduler,
        report=sweep.report,
        say=say,
    )
    with open_trackers(
        trackers, results_dir, sweep.tracking_uri, say, load_native=native_model
    ) as on_record:
        say(f"mnist-bench: {len(runs)} run(s): {describe_runs(runs)}")
        say(f"sweep saved to {save_sweep(sweep, [run.run_id for run in runs], results_dir)}")
        ignoring = backend_not_applied(runs, sweep.backends)
        if ignoring:
            say(f"--backend applies to Keras models; {ignoring}: one run per seed, as always")
        skipped = 0
        if sweep.resume:
            from bench.run.resume import describe_plan, plan_resume

            plan = plan_resume(runs, results_dir)
            say("\n".join(describe_plan(plan)))
            runs, skipped = plan.todo, len(plan.done)
        records = []
        if runs:
            records = executor.run(
                runs, results_dir, say, scheduler=sweep.scheduler, on_record=on_record
            )
    failed = [r for r in records if not r.ok]
    runs_dir = results_dir / "runs"
    done = f" ({skipped} skipped: already done)" if skipped else ""
    say(f"\n{len(records) - len(failed)} ok, {len(failed)} failed{done}; records in {runs_dir}")
    for record in failed:
        say(f"  failed: {record.label} on {record.dataset}, seed {record.seed}: {record.error}")
    if sweep.report:
        write_report_after_runs(results_dir)
    return 1 if failed else 0


def write_report_after_runs(results_dir: Path) -> None:
    """Regenerate the leaderboard; a failure now is exit 3, for the runs have trained."""
    from bench.core.errors import AfterTrainingError, BenchError
    from bench.models.registry import declared_robustness_subsets
    from bench.results.report.leaderboard import write_leaderboard

    try:
        path = write_leaderboard(results_dir, declared_subsets=declared_robustness_subsets())
        say(f"leaderboard written to {path}")
    except BenchError as error:
        raise AfterTrainingError(
            f"{error}. The records are kept: write the leaderboard later with "
            f"'python -m bench report --results-dir {results_dir}'"
        ) from None


def say(line: str) -> None:
    """Print one progress line at once (progress must not wait in a buffer)."""
    print(line, flush=True)


def all_installed_models() -> list[str]:
    """Every registered model whose family's framework is installed (``--all``); the others
    are named, with how to install them, and left out."""
    from bench.models.family import FAMILIES
    from bench.models.registry import get_model, list_models

    names = list_models()
    missing = [n for n in names if not FAMILIES.get(get_model(n).family).installed()]
    for family in sorted({get_model(n).family for n in missing}):
        models = ", ".join(n for n in missing if get_model(n).family == family)
        hint = f"pip install 'mnist-bench[{family}]'"
        say(f"--all leaves out {models}: {family} is not installed ({hint})")
    return [n for n in names if n not in missing]


def backend_not_applied(runs: list[RunSpec], backends: list[str]) -> str:
    """The models of the sweep that ignore ``--backend`` (when it asks for more than the
    default), comma-separated; empty when there are none or the default was asked for."""
    from bench.core.spec import DEFAULT_BACKEND
    from bench.models.registry import get_model
    from bench.run.backends import uses_backends

    if backends == [DEFAULT_BACKEND]:
        return ""
    names = {run.model for run in runs if not uses_backends(get_model(run.model).family)}
    return ", ".join(sorted(names))


def describe_runs(runs: list[RunSpec]) -> str:
    """``mlp/mnist x3 (seeds 0-2), logreg/mnist``: the run list, one entry per model."""
    from bench.run.resume import seed_ranges

    seeds: dict[str, list[int]] = {}
    for run in runs:
        seeds.setdefault(f"{run.label}/{run.dataset}", []).append(run.seed)
    return ", ".join(
        name if len(s) == 1 else f"{name} x{len(s)} (seeds {seed_ranges(s)})"
        for name, s in seeds.items()
    )
