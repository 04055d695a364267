"""``bench list``: the registered models with family, backends, size, presets, description."""

from __future__ import annotations

import argparse

from bench.commands.models_from import add_models_from_option


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench list``."""
    parser = subparsers.add_parser(
        "list",
        help="list the registered models",
        description="List registered models: name, family, the Keras backends a Keras model "
        "can run on (--backend; a backend that is not installed is marked), parameter count "
        "on 28x28 inputs, presets, default epochs and batch size, and a one-line description.",
        epilog="examples:\n  python -m bench list\n  python -m bench list 'mlp*'\n"
        "  python -m bench list --models-from my_models.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pattern", nargs="?", default="*", help="fnmatch filter, e.g. 'cnn*'")
    parser.add_argument(
        "--no-params",
        action="store_true",
        help="skip building each model to count its parameters (no TensorFlow import)",
    )
    add_models_from_option(parser)
    parser.set_defaults(handler=handle_list)


def handle_list(args: argparse.Namespace) -> int:
    """Print one row per matching model."""
    from tabulate import tabulate

    from bench.models.registry import get_model, list_models

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

    return f"{count_parameters(spec, dict(spec.config), (28, 28), 10):,}"
