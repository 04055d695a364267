"""``bench export``: the run records as a CSV, Parquet or JSON Lines table, or sent to a tracker."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bench.core.errors import BenchError
from bench.results.store.files import DEFAULT_RESULTS_DIR

if TYPE_CHECKING:
    from bench.results.store.files import Unreadable
    from bench.results.store.record import RunRecord

EPILOG = """examples:
  python -m bench export                         results/export/runs.csv, one row per run
  python -m bench export --format parquet --per-class
  python -m bench export --format jsonl --per-epoch --output - | head
  python -m bench export --to mlflow             send existing records to MLflow
  python -m bench export --to mlflow --tracking-uri http://HOST:5000

The columns are described in docs/export.md. From Python: bench.load_results("results").
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench export``."""
    parser = subparsers.add_parser(
        "export",
        help="write the records as a CSV/Parquet/JSON Lines table, or send them to a tracker",
        description="Write every readable run record as one table (one row per run, or per "
        "run and class with --per-class, or per run and epoch with --per-epoch), or send the "
        "records to an experiment tracker with --to. Nothing is trained.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--format",
        choices=("csv", "parquet", "jsonl"),
        help="table format (default: from --output's suffix, else csv); parquet needs "
        "pip install 'mnist-bench[export]'",
    )
    rows = parser.add_mutually_exclusive_group()
    rows.add_argument("--per-class", action="store_true", help="one row per run and class")
    rows.add_argument("--per-epoch", action="store_true", help="one row per run and epoch")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS_DIR,
        help=f"where the records are (default: {DEFAULT_RESULTS_DIR})",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="file to write ('-' for standard output; default: RESULTS/export/TABLE.FORMAT); "
        "an existing FIFO, link, device or folder there is refused",
    )
    parser.add_argument(
        "--parents",
        action="store_true",
        help="create --output's missing parent folders (default: refuse a missing folder)",
    )
    parser.add_argument(
        "--to",
        metavar="TRACKER",
        help="instead of a table, send the records to a tracker: 'mlflow' or 'tensorboard' "
        "(records already there are skipped)",
    )
    parser.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="with --to mlflow: the tracking server or store (default: $MLFLOW_TRACKING_URI, "
        "else RESULTS/mlflow/mlflow.db)",
    )
    parser.set_defaults(handler=handle_export)


def handle_export(args: argparse.Namespace) -> int:
    """Write the table (or send the records); say where they went."""
    if args.to:
        return send_records(args)
    from bench.core.safe_io import check_output_path
    from bench.models.registry import declared_robustness_subsets
    from bench.results.export.table import format_of, records_table, table_bytes, write_table

    table = "per_class" if args.per_class else "per_epoch" if args.per_epoch else "runs"
    to_stdout = args.output == "-"
    if args.format:
        fmt = args.format
    elif args.output and not to_stdout:
        fmt = format_of(Path(args.output))
    else:
        fmt = "csv"
    output = Path(args.output) if args.output else args.results_dir / "export" / f"{table}.{fmt}"
    parents = args.parents or not args.output  # RESULTS/export/ is ours to make
    if not to_stdout:
        check_output_path(output, parents=parents)
    records, problems = _records(args.results_dir)
    frame = records_table(records, table, declared_robustness_subsets())
    if to_stdout:
        if fmt == "parquet":
            raise BenchError("Parquet is binary: give --output FILE.parquet, not '-'")
        sys.stdout.write(table_bytes(frame, fmt).decode("utf-8"))
        _mention_unreadable(problems)
        return 0
    path = write_table(frame, output, fmt, parents=parents)
    shape = f"{len(frame)} row(s) x {len(frame.columns)} column(s)"
    print(f"{shape} from {len(records)} record(s) -> {path}")
    _mention_unreadable(problems)
    return 0


def send_records(args: argparse.Namespace) -> int:
    """``--to TRACKER``: log every readable record; exit 1 if any was not taken."""
    from bench.results.tracking import open_trackers, tracker_names
    from bench.run.saved_model import native_model

    if args.output or args.format or args.per_class or args.per_epoch or args.parents:
        raise BenchError(
            "--to sends records to a tracker: leave out --output, --parents, --format, "
            "--per-class and --per-epoch"
        )
    names = tracker_names([args.to])
    records, problems = _records(args.results_dir)
    print(f"sending {len(records)} record(s) from {args.results_dir} to {', '.join(names)}")
    with open_trackers(
        names, args.results_dir, args.tracking_uri, say=print, load_native=native_model
    ) as hook:
        for record in sorted(records, key=lambda record: record.finished_at):
            print(f"{record.label} on {record.dataset}, seed {record.seed}:")
            hook(record)
    _mention_unreadable(problems)
    if hook.failures:
        print(f"{hook.failures} record(s) were not taken; see the warnings above")
    return 1 if hook.failures else 0


def _records(results_dir: Path) -> tuple[list[RunRecord], list[Unreadable]]:
    """The readable records under ``results_dir`` (at least one) and the unreadable files."""
    from bench.results.export.table import check_results_dir
    from bench.results.store.files import scan_records

    records, problems = scan_records(check_results_dir(results_dir))
    if not records:
        raise BenchError(
            f"no readable records under {results_dir / 'runs'}: train something first "
            "(python -m bench run --model logreg:quick --dataset digits)"
        )
    return records, problems


def _mention_unreadable(problems: list[Unreadable]) -> None:
    for problem in problems:
        print(f"  left out (unreadable): {problem.path}: {problem.reason}", file=sys.stderr)
