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


def runs_markdown(
    agg: Aggregates, *, generated: str, stale: Sequence[StaleRecord] = (), figures=None
) -> str:
    """RUNS.md: every table and figure of every dataset, every run, per-seed McNemar tests,
    the replication, failed runs, left-out records, machines and the method."""
    from bench.results.report.sections import RUNS, render_markdown

    lines = render_markdown(RUNS, agg, figures=figures, stale=stale, generated=generated)
    return "\n".join(lines)


def runs_header(generated: str) -> list[str]:
    """RUNS.md's title and what it holds."""
    return [
        "# mnist-bench: every detail",
        "",
        *fmt.wrap(
            f"Generated with [{LEADERBOARD_FILE}]({LEADERBOARD_FILE}) (newest record "
            f"{generated}). Per dataset: the full main table, how each model's defaults were "
            "chosen, time to accuracy, per-class scores, calibration, robustness and the "
            "figures; then every run (each run's accuracy with its Wilson 95% interval over "
            "the test images) and McNemar's test per common seed."
        ),
        "",
    ]


def failed_table(agg: Aggregates) -> list[str]:
    """Every failed run with its reason."""
    if agg.failed.empty:
        return []
    rows = agg.failed[["model", "dataset", "seed", "reason"]].values.tolist()
    return ["## Failed runs", "", fmt.table(rows, ["Model", "Dataset", "Seed", "Reason"]), ""]


def stale_lines(stale: Sequence[StaleRecord]) -> list[str]:
    """The records left out of every table, and what to do about them."""
    if not stale:
        return []
    return [
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


def environment_lines(agg: Aggregates) -> list[str]:
    """The machines and library versions of the runs."""
    if agg.environment.empty:
        return []
    return [
        "## Environment",
        "",
        fmt.table(agg.environment.values.tolist(), list(agg.environment.columns)),
        "",
    ]


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
                fmt.ece(r.ece),
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
