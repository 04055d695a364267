"""``bench diff``: compare two results folders (another machine, library version or commit)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.core.errors import BenchError

EPILOG = """examples:
  python -m bench diff results-laptop results-server
  python -m bench diff results-before results-after --json > diff.json
  python -m bench diff results-main results-pr --fail-if "accuracy<-0.2,train_speed<0.9x"

For each (model, dataset) with ok runs in both folders: mean accuracy over seeds and the
difference B - A with a 95% Welch t-interval over seeds (needs 2+ seeds per side: run with
--repeats), speed-ups of B over A (training and inference samples/s, p50 latency), and the
machines and library versions side by side. Only current records count (as in the leaderboard).

--fail-if RULES makes it a regression gate: exit 1, with the failed rows listed, when a rule's
95% interval lies wholly beyond its threshold. RULES: comma-separated METRIC<NUMBER or
METRIC>NUMBER, with a trailing x for a ratio B/A; metrics: accuracy (B - A in percentage
points), train_speed, inference_speed (images/s), latency_p50 (ms). docs/gate.md has more.
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
    parser.add_argument(
        "--fail-if",
        metavar="RULES",
        help='exit 1 when a rule fails, e.g. "accuracy<-0.2,train_speed<0.9x,latency_p50>1.1x" '
        "(a rule fails when its 95%% interval lies wholly beyond the threshold; docs/gate.md)",
    )
    parser.set_defaults(handler=handle_diff)


def handle_diff(args: argparse.Namespace) -> int:
    """Read both folders' current records and print the diff; with ``--fail-if``, the gate's
    verdict too, and exit 1 when a rule failed."""
    from bench.results.export import gate
    from bench.results.export.diff import diff_records, to_markdown

    rules = None if args.fail_if is None else gate.parse_rules(args.fail_if, gate.RECORD_METRICS)
    records_a = _current(args.results_a)
    records_b = _current(args.results_b)
    diff = diff_records(
        records_a, records_b, name_a=str(args.results_a), name_b=str(args.results_b)
    )
    result = None if rules is None else gate.gate_records(records_a, records_b, rules)
    if result is not None and not result.checks:
        raise BenchError(
            f"--fail-if: no (model, dataset) has ok runs in both {args.results_a} and "
            f"{args.results_b}; nothing to gate (a gate that checks nothing would pass)"
        )
    if args.json:
        data = diff.to_dict()
        if result is not None:
            data["gate"] = result.to_dict()
        print(json.dumps(data, indent=1))
    else:
        print(to_markdown(diff), end="")
        if result is not None:
            print("\n" + gate.to_markdown(result), end="")
    return 1 if result is not None and result.failed else 0


def _current(folder: Path) -> list:
    """The current ok records of ``folder``; a folder without any is an error naming it."""
    from bench.results.export.table import check_results_dir
    from bench.results.store.stale import current_records

    records = [r for r in current_records(check_results_dir(folder)).current if r.ok]
    if not records:
        raise BenchError(f"no ok run records under {folder / 'runs'}; nothing to compare")
    return records
