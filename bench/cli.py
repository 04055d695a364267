"""The ``bench`` command line: one argparse parser with a subcommand per job.

Each subcommand lives in ``bench/commands/<name>.py`` and exposes ``add_parser(subparsers)``,
which registers its parser and sets ``handler`` to a function taking the parsed arguments and
returning an exit code. Command modules import TensorFlow only inside their handlers, so
``bench --help`` and the data commands start in well under a second.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from bench.commands import COMMAND_MODULES
from bench.core.errors import BenchError
from bench.core.tfquiet import quiet_tensorflow_environment
from bench.core.version import __version__


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


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop, keep what was written, say so."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; return the process exit code.

    0: success; 1: a run failed (the summary says which); 2: bad input, nothing was run;
    130 after Ctrl-C and 143 after SIGTERM (records already written are kept).
    """
    quiet_tensorflow_environment()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return int(args.handler(args) or 0)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        how = "terminated (SIGTERM)" if isinstance(interrupt, Terminated) else "interrupted"
        print(
            f"\n{how}: records already written are kept; rerun the same command with "
            "--resume to finish the sweep.",
            file=sys.stderr,
        )
        return 143 if isinstance(interrupt, Terminated) else 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
