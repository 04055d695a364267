"""``bench compare A B``: are two models' accuracies really different? Paired tests, no training."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bench.commands.models_from import add_models_from_option
from bench.errors import BenchError

if TYPE_CHECKING:
    from bench.results.pairwise import PairComparison
    from bench.results.stats import Interval

EPILOG = """examples:
  python -m bench compare article_cnn mlp
  python -m bench compare mlp mlp:small --dataset digits --results-dir /tmp/results
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench compare``."""
    parser = subparsers.add_parser(
        "compare",
        help="paired significance test of two models from their stored predictions",
        description="Pair the runs of models A and B by seed (same test images) and print, per "
        "seed, both accuracies with Wilson 95% intervals, McNemar's exact test and a paired "
        "bootstrap interval of the difference; then the seed-averaged difference and a verdict.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model_a", metavar="A", help="model label: NAME or NAME:PRESET")
    parser.add_argument("model_b", metavar="B", help="model label: NAME or NAME:PRESET")
    parser.add_argument(
        "--dataset", help="dataset to compare on (default: the one both models have runs on)"
    )
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="default: results"
    )
    add_models_from_option(parser)
    parser.set_defaults(handler=handle_compare)


def handle_compare(args: argparse.Namespace) -> int:
    """Load the current records, compare A with B, print the details and the verdict."""
    from bench.results.pairwise import compare_models, normalize_label, verdict
    from bench.results.stale import scan_records

    record_set = scan_records(args.results_dir)
    records = record_set.current
    if not records:
        raise BenchError(
            f"no current run records under {args.results_dir / 'runs'}; train the two models "
            f"first, e.g. 'python -m bench run --model {args.model_a},{args.model_b} --repeats 3'"
        )
    label_a, label_b = normalize_label(args.model_a), normalize_label(args.model_b)
    dataset = args.dataset or _common_dataset(records, label_a, label_b)
    pair = compare_models(records, label_a, label_b, dataset)
    print("\n".join(comparison_lines(pair)))
    print(f"\nverdict: {verdict(pair)}")
    print(
        "(one comparison at the 5% level; LEADERBOARD.md's pairwise table corrects its "
        "p-values for the number of pairs it compares, with Holm's method)"
    )
    left_out = [
        s for s in record_set.stale if s.dataset == dataset and s.label in (label_a, label_b)
    ]
    if left_out:
        print(
            f"\n{len(left_out)} stale record(s) of these models were left out (see LEADERBOARD.md)."
        )
    return 0


def comparison_lines(pair: PairComparison) -> list[str]:
    """The per-seed table and the seed-averaged summary, as console lines."""
    from tabulate import tabulate

    a, b = pair.label_a, pair.label_b
    n = pair.seeds[0].n_test
    rows = [
        [
            s.seed,
            _acc(s.accuracy_a),
            _acc(s.accuracy_b),
            s.only_a,
            s.only_b,
            f"{s.p_value:.4g}",
            f"{100 * s.difference.estimate:+.2f} [{100 * s.difference.low:+.2f}, "
            f"{100 * s.difference.high:+.2f}]",
        ]
        for s in pair.seeds
    ]
    headers = [
        "seed",
        f"{a} acc % [Wilson 95%]",
        f"{b} acc % [Wilson 95%]",
        f"only {a} right",
        f"only {b} right",
        "McNemar exact p",
        "A - B points [95% CI]",
    ]
    diff = pair.difference
    return [
        f"{a} (A) vs {b} (B) on {pair.dataset}: {n:,} test images, "
        f"{len(pair.seeds)} common seed(s)",
        "",
        tabulate(rows, headers=headers, disable_numparse=True),
        "",
        f"accuracy difference A - B averaged over seeds: {100 * diff.estimate:+.2f} points, "
        f"95% CI [{100 * diff.low:+.2f}, {100 * diff.high:+.2f}] ({diff.method})",
        f"McNemar exact p (statsmodels), largest over seeds: {pair.max_p:.4g}",
    ]


def _acc(interval: Interval) -> str:
    return f"{100 * interval.estimate:.2f} [{100 * interval.low:.2f}, {100 * interval.high:.2f}]"


def _common_dataset(records: list[dict], label_a: str, label_b: str) -> str:
    """The one dataset both models have ok runs on; ask for --dataset when there are several."""
    from bench.results.pairwise import label_of

    datasets: dict[str, set[str]] = {}
    for record in records:
        if record["status"] == "ok":
            datasets.setdefault(label_of(record), set()).add(record["dataset"])
    shared = sorted(datasets.get(label_a, set()) & datasets.get(label_b, set()))
    if len(shared) == 1:
        return shared[0]
    if not shared:
        found = ", ".join(f"{k} ({', '.join(sorted(v))})" for k, v in sorted(datasets.items()))
        raise BenchError(
            f"{label_a} and {label_b} have no successful runs on a common dataset; "
            f"models with runs: {found or 'none'}"
        )
    raise BenchError(
        f"{label_a} and {label_b} both have runs on {', '.join(shared)}; choose one with --dataset"
    )
