"""``bench list``: the registered models with family, size, presets and description."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench list``."""
    parser = subparsers.add_parser(
        "list",
        help="list the registered models",
        description="List registered models: name, family, parameter count on 28x28 inputs, "
        "presets, default epochs and batch size, and a one-line description.",
        epilog="examples:\n  python -m bench list\n  python -m bench list 'mlp*'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pattern", nargs="?", default="*", help="fnmatch filter, e.g. 'cnn*'")
    parser.add_argument(
        "--no-params",
        action="store_true",
        help="skip building each model to count its parameters (no TensorFlow import)",
    )
    parser.set_defaults(handler=handle_list)


def handle_list(args: argparse.Namespace) -> int:
    """Print one row per matching model."""
    from tabulate import tabulate

    from bench.registry import get_model, list_models

    rows = []
    for name in list_models(args.pattern):
        spec = get_model(name)
        params = "-" if args.no_params else _parameter_count(spec)
        defaults = ", ".join(
            f"{key}={spec.config[key]}"
            for key in ("epochs", "batch_size", "max_iter")
            if key in spec.config
        )
        rows.append(
            [name, spec.family, params, ", ".join(spec.preset_names()), defaults, spec.description]
        )
    headers = ["Model", "Family", "Params", "Presets", "Defaults", "Description"]
    print(tabulate(rows, headers=headers, disable_numparse=True))
    return 0


def _parameter_count(spec) -> str:
    from bench.adapters import count_parameters

    count = count_parameters(spec, dict(spec.config), (28, 28), 10)
    return "-" if count is None else f"{count:,}"
