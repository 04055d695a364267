"""``bench compare A B``: are two models' accuracies really different? From stored predictions,
no training."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.commands.models_from import add_models_from_option
from bench.core.errors import BenchError

if TYPE_CHECKING:
    from bench.results.stats.intervals import Interval
    from bench.results.stats.pairwise import PairComparison
    from bench.results.store.record import RunRecord

EPILOG = """examples:
  python -m bench compare article_cnn mlp
  python -m bench compare mlp mlp:small --dataset digits --results-dir /tmp/results
  python -m bench compare cnn_fast mlp --json > comparison.json
"""


RESOLUTION_TARGET = 0.001
"""The difference ``compare`` plans seeds for: 0.1 points, the race's aim for its top pairs."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench compare``."""
    parser = subparsers.add_parser(
        "compare",
        help="seed-level test of two models from their stored predictions",
        description="Compare models A and B on a dataset from every current run of each: "
        "the accuracy difference with its 95% interval and p-value from a t-test over "
        "training seeds and paired test images (Satterthwaite degrees of freedom), a "
        "verdict, and per common seed McNemar's exact test and both accuracies with Wilson "
        "95% intervals.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model_a", metavar="A", help="model label: NAME or NAME:PRESET")
    parser.add_argument("model_b", metavar="B", help="model label: NAME or NAME:PRESET")
    parser.add_argument(
        "--dataset",
        help="dataset to compare on (default: every dataset both models have runs on, one "
        "comparison each; --json then prints a list)",
    )
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="default: results"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the tables"
    )
    add_models_from_option(parser)
    parser.set_defaults(handler=handle_compare)


def handle_compare(args: argparse.Namespace) -> int:
    """Load the current records, compare A with B, print the details and the verdict."""
    from bench.models.registry import declared_robustness_subsets
    from bench.results.stats.pairwise import compare_models, normalize_label, verdict
    from bench.results.store.stale import current_records

    record_set = current_records(args.results_dir, declared_robustness_subsets())
    records = record_set.current
    if not records:
        raise BenchError(
            f"no current run records under {args.results_dir / 'runs'}; train the two models "
            f"first, e.g. 'python -m bench run --model {args.model_a},{args.model_b} --repeats 3'"
        )
    label_a, label_b = normalize_label(args.model_a), normalize_label(args.model_b)
    datasets = [args.dataset] if args.dataset else shared_datasets(records, label_a, label_b)
    pairs = [compare_models(records, label_a, label_b, dataset) for dataset in datasets]
    left_out = [
        s for s in record_set.stale if s.dataset in datasets and s.label in (label_a, label_b)
    ]
    if args.json:
        found = [comparison_json(pair, verdict(pair), _stale(left_out, pair)) for pair in pairs]
        print(json.dumps(found[0] if len(found) == 1 else found, indent=1))
        return 0
    for number, pair in enumerate(pairs):
        if number:
            print("\n" + "-" * 72 + "\n")
        print("\n".join(comparison_lines(pair)))
        print(f"\nverdict: {verdict(pair)}")
    print(
        "(one comparison per dataset, no correction; LEADERBOARD.md corrects the p-values of "
        "all its tests with Holm's method)"
    )
    if left_out:
        print(f"\n{len(left_out)} stale record(s) of these models were left out (see RUNS.md).")
    return 0


def _stale(left_out: list[Any], pair: PairComparison) -> int:
    return sum(s.dataset == pair.dataset for s in left_out)


def resolution_plan(pair: PairComparison, target: float = RESOLUTION_TARGET) -> str:
    """How many seeds per model would resolve ``target`` (a difference, as a fraction)."""
    from bench.results.stats.crossed import seeds_to_resolve

    seeds = seeds_to_resolve(pair.test, target)
    points = f"{100 * target:.2f} points"
    if seeds is None:
        return f"no seed count resolves {points} on these test images (the images limit it)"
    return f"seeds per model to resolve {points} at 80% power: {seeds}"


def comparison_lines(pair: PairComparison) -> list[str]:
    """The seed-level result and the per-seed McNemar table, as console lines."""
    from tabulate import tabulate

    from bench.results.stats.intervals import format_p_value

    a, b = pair.label_a, pair.label_b
    diff = pair.difference
    lines = [
        f"{a} (A) vs {b} (B) on {pair.dataset}: {pair.n_test:,} test images; "
        f"A seeds {_list(pair.seeds_a)}, B seeds {_list(pair.seeds_b)}",
        "",
        f"accuracy difference A - B: {100 * diff.estimate:+.2f} points, "
        f"95% CI [{100 * diff.low:+.2f}, {100 * diff.high:+.2f}] ({diff.method})",
        f"p-value (two-sided, seed level): {format_p_value(pair.p_value)}; 80%-power "
        f"resolution {100 * pair.minimum_detectable:.2f} points",
        resolution_plan(pair),
    ]
    if not pair.per_seed:
        return [*lines, "", "no common seed: no per-seed McNemar test"]
    rows = [
        [
            s.seed,
            _acc(s.accuracy_a),
            _acc(s.accuracy_b),
            s.only_a,
            s.only_b,
            format_p_value(s.p_value),
            _points(s.difference),
        ]
        for s in pair.per_seed
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
    return [
        *lines,
        "",
        "per common seed (detail: each row compares two runs, not two models):",
        tabulate(rows, headers=headers, disable_numparse=True),
    ]


def comparison_json(pair: PairComparison, verdict: str, stale_left_out: int) -> dict[str, Any]:
    """Everything :func:`comparison_lines` prints, as JSON-able data (fractions, not %)."""

    def interval(value: Interval | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return {
            "estimate": value.estimate,
            "low": value.low,
            "high": value.high,
            "confidence": value.confidence,
            "method": value.method,
        }

    return {
        "dataset": pair.dataset,
        "a": pair.label_a,
        "b": pair.label_b,
        "n_test": pair.n_test,
        "seeds_a": pair.seeds_a,
        "seeds_b": pair.seeds_b,
        "difference": interval(pair.difference),
        "p_value": pair.p_value,
        "minimum_detectable_difference": pair.minimum_detectable,
        "winner": pair.winner(),
        "seeds_missing": pair.seeds_missing(),
        "verdict": verdict,
        "per_seed": [
            {
                "seed": s.seed,
                "accuracy_a": interval(s.accuracy_a),
                "accuracy_b": interval(s.accuracy_b),
                "only_a": s.only_a,
                "only_b": s.only_b,
                "mcnemar_p": s.p_value,
                "difference": interval(s.difference),
            }
            for s in pair.per_seed
        ],
        "stale_left_out": stale_left_out,
    }


def shared_datasets(records: list[RunRecord], label_a: str, label_b: str) -> list[str]:
    """The datasets both models have ok runs on (each is compared); an error when none."""
    from bench.results.report.aggregate import dataset_order

    datasets: dict[str, set[str]] = {}
    for record in records:
        if record.ok:
            datasets.setdefault(record.label, set()).add(record.dataset)
    shared = sorted(datasets.get(label_a, set()) & datasets.get(label_b, set()))
    if not shared:
        found = ", ".join(f"{k} ({', '.join(sorted(v))})" for k, v in sorted(datasets.items()))
        raise BenchError(
            f"{label_a} and {label_b} have no successful runs on a common dataset; "
            f"models with runs: {found or 'none'}"
        )
    return dataset_order(shared)


def _acc(value: Interval) -> str:
    return f"{100 * value.estimate:.2f} [{100 * value.low:.2f}, {100 * value.high:.2f}]"


def _list(seeds: list[int]) -> str:
    return ", ".join(str(s) for s in seeds)


def _points(difference: Interval | None) -> str:
    """``+0.12 [-0.05, +0.30]`` in percentage points, or ``-`` where there is none."""
    if difference is None:
        return "-"
    return (
        f"{100 * difference.estimate:+.2f} [{100 * difference.low:+.2f}, "
        f"{100 * difference.high:+.2f}]"
    )
