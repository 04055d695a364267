"""``bench diff``: compare two results folders (another machine, library version or commit)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.core.errors import BenchError

EPILOG = """examples:
  python -m bench diff results-laptop results-server
  python -m bench diff results-before results-after --json > diff.json

For each (model, dataset) with ok runs in both folders: mean accuracy over seeds and the
difference B - A with a 95% Welch t-interval over seeds (needs 2+ seeds per side: run with
--repeats), speed-ups of B over A (training and inference samples/s, p50 latency), and the
machines and library versions side by side. Only current records count (as in the leaderboard).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench diff``."""
    parser = subparsers.add_parser(
        "diff",
        help="compare two results folders: accuracy with intervals, speed ratios, machines",
        description="Compare the records of two results folders, model by model. "
        "Nothing is trained.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results_a", type=Path, metavar="RESULTS_A", help="the first folder (A)")
    parser.add_argument("results_b", type=Path, metavar="RESULTS_B", help="the second folder (B)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.set_defaults(handler=handle_diff)


def handle_diff(args: argparse.Namespace) -> int:
    """Read both folders' current records and print the diff."""
    from bench.results.export.diff import diff_records, to_markdown

    records_a = _current(args.results_a)
    records_b = _current(args.results_b)
    diff = diff_records(
        records_a, records_b, name_a=str(args.results_a), name_b=str(args.results_b)
    )
    if args.json:
        print(json.dumps(diff.to_dict(), indent=1))
    else:
        print(to_markdown(diff), end="")
    return 0


def _current(folder: Path) -> list:
    """The current ok records of ``folder``; a folder without any is an error naming it."""
    from bench.results.export.table import check_results_dir
    from bench.results.store.stale import current_records

    records = [r for r in current_records(check_results_dir(folder)).current if r.ok]
    if not records:
        raise BenchError(f"no ok run records under {folder / 'runs'}; nothing to compare")
    return records
