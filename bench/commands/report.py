"""``bench report``: regenerate the leaderboard from the stored records, without training."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.commands.models_from import add_models_from_option
from bench.errors import BenchError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench report``."""
    parser = subparsers.add_parser(
        "report",
        help="regenerate results/LEADERBOARD.md from the run records",
        description="Read every record under RESULTS_DIR/runs and write "
        "RESULTS_DIR/LEADERBOARD.md.",
        epilog="example:\n  python -m bench report --results-dir results",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="default: results"
    )
    add_models_from_option(parser)
    parser.set_defaults(handler=handle_report)


def handle_report(args: argparse.Namespace) -> int:
    """Write the leaderboard and say where."""
    from bench.results.markdown import write_leaderboard
    from bench.results.record import load_records

    if not load_records(args.results_dir, warn=False):
        raise BenchError(
            f"no run records under {args.results_dir / 'runs'}; "
            "train something first, e.g. 'python -m bench run --all --quick'"
        )
    print(f"leaderboard written to {write_leaderboard(args.results_dir)}")
    return 0
