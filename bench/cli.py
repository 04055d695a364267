"""The ``bench`` command line: one argparse parser with a subcommand per job.

Each subcommand lives in ``bench/commands/<name>.py`` and exposes ``add_parser(subparsers)``,
which registers its parser and sets ``handler`` to a function taking the parsed arguments and
returning an exit code. Command modules import TensorFlow only inside their handlers, so
``bench --help`` and the data commands start in well under a second.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bench import __version__
from bench.commands import COMMAND_MODULES
from bench.errors import BenchError


def quiet_tensorflow() -> None:
    """Silence TensorFlow's start-up log lines; must run before TensorFlow is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand attached."""
    parser = argparse.ArgumentParser(
        prog="bench",
        description="Train and compare MNIST-style classifiers with trustworthy numbers.",
        epilog="Example: python -m bench run --all   (then read results/LEADERBOARD.md)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mnist-bench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; return the process exit code."""
    quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: records already written are kept.", file=sys.stderr)
        return 130
