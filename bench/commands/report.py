"""``bench report``: regenerate the leaderboard from the stored records, without training."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.commands.models_from import add_models_from_option
from bench.core.errors import BenchError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench report``."""
    parser = subparsers.add_parser(
        "report",
        help="regenerate results/LEADERBOARD.md and the index.html dashboard from the records",
        description="Read every record under RESULTS_DIR/runs once and write "
        "RESULTS_DIR/LEADERBOARD.md, RESULTS_DIR/RUNS.md, RESULTS_DIR/index.html (the "
        "dashboard, one self-contained file) and RESULTS_DIR/figures/. A page whose content "
        "did not change is not written again. Needs no TensorFlow.",
        epilog="examples:\n  python -m bench report --results-dir results\n"
        "  python -m bench report --html /tmp/dashboard.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="default: results"
    )
    parser.add_argument(
        "--baseline",
        metavar="MODEL",
        help="model the robustness section's relative mCE is measured against "
        "(default: the least accurate model with robustness results on each dataset)",
    )
    parser.add_argument(
        "--redraw",
        action="store_true",
        help="draw every figure again (default: only those whose data or drawing code changed)",
    )
    parser.add_argument(
        "--html",
        type=Path,
        metavar="PATH",
        help="where to write the dashboard (default: RESULTS_DIR/index.html)",
    )
    add_models_from_option(parser)
    parser.set_defaults(handler=handle_report)


def handle_report(args: argparse.Namespace) -> int:
    """Write the leaderboard and say where."""
    from bench.models.registry import declared_robustness_subsets
    from bench.results.report.leaderboard import write_leaderboard
    from bench.results.store.files import record_files

    if not record_files(args.results_dir):
        raise BenchError(
            f"no run records under {args.results_dir / 'runs'}; "
            "train something first, e.g. 'python -m bench run --all --quick'"
        )
    path = write_leaderboard(
        args.results_dir,
        robustness_baseline=args.baseline,
        redraw=args.redraw,
        declared_subsets=declared_robustness_subsets(),
        html_path=args.html,
    )
    dashboard = args.html or args.results_dir / "index.html"
    print(f"leaderboard written to {path}; dashboard at {dashboard}")
    return 0
