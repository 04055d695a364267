"""``bench list``: the registered models with family, backends, size, presets, description."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.commands.models_from import add_models_from_option
from bench.results.store.files import DEFAULT_RESULTS_DIR


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench list``."""
    parser = subparsers.add_parser(
        "list",
        help="list the registered models",
        description="List registered models: name, family, the Keras backends a Keras model "
        "can run on (--backend; a backend that is not installed is marked), parameter count, "
        "presets, default epochs and batch size, and a one-line description. Parameter counts "
        "come from the newest record of each model under --results-dir; --params builds each "
        "model on 28x28 inputs to count them (slower: imports the frameworks).",
        epilog="examples:\n  python -m bench list\n  python -m bench list 'mlp*' --params\n"
        "  python -m bench list --models-from my_models.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pattern", nargs="?", default="*", help="fnmatch filter, e.g. 'cnn*'")
    parser.add_argument(
        "--params",
        action="store_true",
        help="build each model on 28x28 inputs to count its parameters (imports TensorFlow)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS_DIR,
        help=f"where recorded parameter counts are read from (default: {DEFAULT_RESULTS_DIR})",
    )
    add_models_from_option(parser)
    parser.set_defaults(handler=handle_list)


def handle_list(args: argparse.Namespace) -> int:
    """Print one row per matching model."""
    from tabulate import tabulate

    from bench.models.registry import get_model, list_models

    recorded = {} if args.params else recorded_parameters(args.results_dir)
    rows = []
    for name in list_models(args.pattern):
        spec = get_model(name)
        params = _parameter_count(spec) if args.params else recorded.get(name, "-")
        defaults = ", ".join(
            f"{key}={spec.config[key]}"
            for key in ("epochs", "batch_size", "max_iter")
            if key in spec.config
        )
        rows.append(
            [
                name,
                spec.family,
                backends_text(spec.family),
                params,
                ", ".join(spec.preset_names()),
                defaults,
                spec.description,
            ]
        )
    headers = ["Model", "Family", "Backends", "Params", "Presets", "Defaults", "Description"]
    print(tabulate(rows, headers=headers, disable_numparse=True))
    return 0


def recorded_parameters(results_dir: Path) -> dict[str, str]:
    """Model name -> parameter count of its newest default-preset record, formatted."""
    from bench.results.store.files import load_records

    counts = {}
    for record in load_records(results_dir):  # oldest first: the newest wins
        if record.ok and record.preset == "default" and record.parameters is not None:
            counts[record.model] = f"{record.parameters:,}"
    return counts


def backends_text(family: str) -> str:
    """The Keras backends a model of ``family`` can run on, ``(not installed)`` marked; ``-``
    for a family that is not Keras (it ignores ``--backend``)."""
    from bench.models.family import FAMILIES
    from bench.run.backends import installed

    backends = FAMILIES.get(family).backends
    if not backends:
        return "-"
    return ", ".join(b if installed(b) else f"{b} (not installed)" for b in backends)


def _parameter_count(spec) -> str:
    from bench.models.family import count_parameters

    count = count_parameters(spec, dict(spec.config), (28, 28), 10)
    return "-" if count is None else f"{count:,}"
