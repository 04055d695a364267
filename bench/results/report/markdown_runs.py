"""RUNS.md: every run with its Wilson interval, McNemar's test per common seed, failed runs,
left-out records and the machines, from the frames of :mod:`bench.results.report.aggregate`."""

from __future__ import annotations

from collections.abc import Sequence

from bench.results.report import markdown_format as fmt
from bench.results.report.aggregate import Aggregates
from bench.results.stats.intervals import format_p_value, wilson_interval
from bench.results.store.stale import StaleRecord

LEADERBOARD_FILE = "LEADERBOARD.md"
RUNS_FILE = "RUNS.md"


def runs_markdown(agg: Aggregates, *, generated: str, stale: Sequence[StaleRecord] = ()) -> str:
    """RUNS.md: every run, per-seed McNemar tests, failed runs, left-out records, machines."""
    lines = [
        "# mnist-bench: every run",
        "",
        *fmt.wrap(
            f"Generated with [{LEADERBOARD_FILE}]({LEADERBOARD_FILE}) on {generated}. Each "
            "run's accuracy carries its Wilson 95% interval over the test images."
        ),
        "",
    ]
    for dataset in agg.order:
        lines += [f"## {agg.datasets.at[dataset, 'title']}", "", per_run_table(agg, dataset), ""]
        mcnemar = mcnemar_table(agg, dataset)
        if mcnemar:
            lines += ["### McNemar's exact test per common seed", "", mcnemar, ""]
    if not agg.failed.empty:
        rows = agg.failed[["model", "dataset", "seed", "reason"]].values.tolist()
        lines += ["## Failed runs", "", fmt.table(rows, ["Model", "Dataset", "Seed", "Reason"]), ""]
    if stale:
        lines += [
            "## Left out: stale records",
            "",
            *fmt.wrap(
                f"{len(stale)} record(s) are unreadable or were made with other model code or "
                "another configuration than the newest run of the same model; they are in no "
                "table. Rerun those models (`python -m bench run ... --resume`) or delete the "
                "records."
            ),
            "",
            stale_table(stale),
            "",
        ]
    if not agg.environment.empty:
        lines += [
            "## Environment",
            "",
            fmt.table(agg.environment.values.tolist(), list(agg.environment.columns)),
            "",
        ]
    return "\n".join(lines)


def per_run_table(agg: Aggregates, dataset: str) -> str:
    """Every ok run of one dataset: accuracy with its Wilson interval, times, record link."""
    runs = agg.runs[agg.runs["dataset"] == dataset]
    rank = {m: i for i, m in enumerate(agg.order[dataset])}
    runs = runs.assign(_r=runs["model"].map(rank)).sort_values(["_r", "seed"])
    # the phases in the order runs record them: the run with the most phases sets it
    # (robustness is there only where it was asked for)
    recorded = sorted(runs["phases"], key=len, reverse=True)
    phases = list(dict.fromkeys(name for one in recorded for name in one))
    rows = []
    for r in runs.itertuples():
        ci = wilson_interval(int(r.n_correct), int(r.n_test))
        rows.append(
            [
                r.model,
                r.seed,
                f"{fmt.pct(r.accuracy)} [{fmt.pct(ci.low)}, {fmt.pct(ci.high)}]",
                fmt.num(r.macro_f1, "{:.4f}"),
                fmt.num(r.ece, "{:.4f}"),
                fmt.num(r.train_seconds, "{:.1f}"),
                fmt.num(r.wall_seconds, "{:.1f}"),
                fmt.count(r.inference_samples_per_s),
                fmt.num(r.peak_gflops, "{:.0f}") + (" busy" if r.busy else ""),
                fmt.count(r.peak_rss_mb),
                phase_cell(r.phases, phases),
                f"[record](runs/{r.run_id}/record.json)",
            ]
        )
    headers = [
        "Model",
        "Seed",
        "Test acc % [Wilson 95%]",
        "Macro F1",
        "ECE",
        "Train s",
        "Wall s",
        "Inference img/s",
        "Probe GFLOP/s",
        "Peak RSS MiB",
        f"Phases s ({' / '.join(phases)})" if phases else "Phases s",
        "Record",
    ]
    return fmt.table(rows, headers)


def phase_cell(recorded: dict[str, float], phases: Sequence[str]) -> str:
    """``0.1 / 0.0 / 4.6 / 0.3 / 1.4``: seconds per phase, ``-`` for a phase this run had not."""
    if not recorded:
        return "-"
    return " / ".join(f"{recorded[name]:.1f}" if name in recorded else "-" for name in phases)


def mcnemar_table(agg: Aggregates, dataset: str) -> str:
    """Per tested pair and common seed: images only A / only B got right, exact p."""
    part = agg.pairwise[agg.pairwise["dataset"] == dataset]
    rows = [
        [f"{r.model_a} vs {r.model_b}", seed, only_a, only_b, format_p_value(p)]
        for r in part.itertuples()
        for seed, only_a, only_b, p in r.mcnemar
    ]
    headers = ["A vs B", "Seed", "Only A right", "Only B right", "McNemar exact p"]
    return fmt.table(rows, headers) if rows else ""


def stale_table(stale: Sequence[StaleRecord]) -> str:
    """Records left out of every table, with the reason."""
    rows = [[s.label, s.dataset, s.seed, s.reason, f"`runs/{s.run_id}`"] for s in stale]
    return fmt.table(rows, ["Model", "Dataset", "Seed", "Why left out", "Record"])
