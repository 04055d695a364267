"""``bench benchmarks``: render the newest pytest-benchmark JSON into results/BENCHMARKS.md.

The speed suite (``pytest --benchmark-only --benchmark-autosave``, or ``tox -e bench``) saves
its numbers as JSON under ``.benchmarks/``; this command turns the newest file (or the one
named with ``--json``) into markdown tables, one per benchmark group, with the machine, its
measured matmul peak and the images/s, GFLOP/s and % of peak each benchmark recorded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError

OUTPUT_FILE = "BENCHMARKS.md"
# extra_info keys shown as their own columns, with their headers; others go to "Notes".
RATE_COLUMNS = {
    "images_per_call": "Images/call",
    "images_per_s": "Images/s",
    "gflops": "GFLOP/s",
    "percent_of_peak": "% of peak",
}
NOT_SHOWN = {"peak_gflops"}  # the same for every row; shown once in the header
# The speed targets (tests/benchmarks/test_peers.py) come first, in their order; their groups
# start with "target N:". Other groups follow, alphabetically.
TARGET_COLUMNS = {"target": "Target", "target_met": "Met", "ratio": "Ratio (peer / ours)"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench benchmarks``."""
    parser = subparsers.add_parser(
        "benchmarks",
        help="render the newest pytest-benchmark JSON into results/BENCHMARKS.md",
        description="Find the newest pytest-benchmark JSON under --storage (or take --json) "
        "and write its numbers as markdown tables to RESULTS_DIR/BENCHMARKS.md.",
        epilog="examples:\n"
        "  pytest --benchmark-only --benchmark-autosave && python -m bench benchmarks\n"
        "  python -m bench benchmarks --json bench.json --results-dir /tmp/r",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", type=Path, help="a pytest-benchmark JSON file to render")
    parser.add_argument(
        "--storage",
        type=Path,
        default=Path(".benchmarks"),
        help="where --benchmark-autosave keeps its files (default: .benchmarks)",
    )
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="default: results"
    )
    parser.set_defaults(handler=handle_benchmarks)


def newest_json(storage: Path) -> Path:
    """The most recently written ``*.json`` under ``storage``; a BenchError if there is none."""
    files = sorted(Path(storage).rglob("*.json"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise BenchError(
            f"no pytest-benchmark JSON under {storage}; run the suite first: "
            "'pytest --benchmark-only --benchmark-autosave' (or 'tox -e bench'), "
            "or name a file with --json"
        )
    return files[-1]


def _milliseconds(seconds: float) -> str:
    millis = seconds * 1000.0
    return f"{millis:.3g}" if millis < 100 else f"{millis:,.0f}"


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def group_table(benchmarks: list[dict[str, Any]]) -> str:
    """One markdown table for the benchmarks of one group."""
    from tabulate import tabulate

    columns = {**TARGET_COLUMNS, **RATE_COLUMNS}
    rate_keys = [k for k in columns if any(k in b.get("extra_info", {}) for b in benchmarks)]
    headers = ["Benchmark", "Median (ms)", "IQR (ms)", "Min (ms)", "Rounds"]
    headers += [columns[k] for k in rate_keys] + ["Notes"]
    rows = []
    for bench in sorted(benchmarks, key=lambda b: b["stats"]["median"]):
        stats, extra = bench["stats"], bench.get("extra_info", {})
        notes = ", ".join(
            f"{k}={_value(v)}" for k, v in extra.items() if k not in columns and k not in NOT_SHOWN
        )
        rows.append(
            [
                bench.get("param") or bench["name"],
                _milliseconds(stats["median"]),
                _milliseconds(stats["iqr"]),
                _milliseconds(stats["min"]),
                stats["rounds"],
                *(_value(extra[k]) if k in extra else "-" for k in rate_keys),
                notes,
            ]
        )
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def group_order(group: str) -> tuple[int, str]:
    """Sort key: the "target N: ..." groups first, by N; then the rest alphabetically."""
    head, _, _ = group.partition(":")
    number = head.removeprefix("target ").strip()
    return (int(number), group) if head.startswith("target ") and number.isdigit() else (99, group)


def benchmarks_markdown(data: dict[str, Any], source: str) -> str:
    """The whole BENCHMARKS.md text for one pytest-benchmark JSON document."""
    machine = data.get("machine_info", {})
    peak = machine.get("matmul_peak") or {}
    commit = data.get("commit_info", {})
    cpu = machine.get("cpu_model") or machine.get("cpu", {}).get("brand_raw", "unknown CPU")
    lines = [
        "# mnist-bench speed benchmarks",
        "",
        f"Generated by `python -m bench benchmarks` from `{source}` (pytest-benchmark "
        f"{data.get('version', '?')}, run {data.get('datetime', '?')}). Do not edit by hand: "
        "rerun the suite and this command instead.",
        "",
        f"- CPU: {cpu}, {machine.get('usable_cores', machine.get('cpu', {}).get('count', '?'))}"
        " usable cores",
    ]
    if peak:
        lines.append(
            f"- float32 matmul peak measured in the same process: {peak['gflops']:.1f} GFLOP/s "
            f"({peak['method']})"
        )
    bf16 = machine.get("matmul_peak_bfloat16")
    if bf16:
        lines.append(f"- bfloat16 matmul peak, same probe: {bf16['gflops']:.1f} GFLOP/s")
    lines += [
        f"- Python {machine.get('python_version', '?')}; commit {commit.get('id', '?')}"
        + (" (uncommitted changes)" if commit.get("dirty") else ""),
        "",
        "Times are per call; median and interquartile range over the calibrated rounds after "
        "warm-up. Images/s comes from the median round; GFLOP/s counts 2 FLOPs per "
        "multiply-add (training: 3x forward) and '% of peak' divides it by the matmul peak "
        "above.",
        "",
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for bench in data.get("benchmarks", []):
        groups.setdefault(bench.get("group") or "ungrouped", []).append(bench)
    if not groups:
        lines += ["The file holds no benchmark results.", ""]
    for group in sorted(groups, key=group_order):
        lines += [f"## {group}", "", group_table(groups[group]), ""]
    return "\n".join(lines)


def handle_benchmarks(args: argparse.Namespace) -> int:
    """Render the chosen JSON and say where the markdown went."""
    from bench.core.fsutil import atomic_write_text

    path = args.json if args.json else newest_json(args.storage)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BenchError(f"cannot read pytest-benchmark JSON {path}: {error}") from None
    if "benchmarks" not in data:
        raise BenchError(f"{path} is not a pytest-benchmark JSON file (no 'benchmarks' list)")
    output = Path(args.results_dir) / OUTPUT_FILE
    atomic_write_text(output, benchmarks_markdown(data, str(path)))
    print(f"benchmarks from {path} written to {output}")
    return 0
