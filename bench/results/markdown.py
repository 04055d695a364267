"""The leaderboard: records in, markdown out. Pure functions except :func:`write_leaderboard`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any

import pandas as pd
from tabulate import tabulate

from bench.fsutil import atomic_write_text
from bench.measure.timing import TIME_TO_ACCURACY_TARGETS
from bench.results.pairwise import PairwiseTable, compare_all, label_of, short_verdict
from bench.results.stale import StaleRecord, scan_records
from bench.results.stats import format_p_value, t_interval, wilson_interval

if TYPE_CHECKING:
    from bench.results.figures import DatasetFigures

LEADERBOARD_FILE = "LEADERBOARD.md"


def summary_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per ok record with the headline numbers (flat columns)."""
    rows = []
    for record in records:
        if record["status"] != "ok":
            continue
        timings = record["timings"]
        training = timings["training"]
        rows.append(
            {
                "dataset": record["dataset"],
                "model": label_of(record),
                "seed": record["seed"],
                "params": record.get("parameters"),
                "accuracy": record["metrics"]["accuracy"],
                "macro_f1": record["metrics"]["macro_f1"],
                "n_test": record["metrics"]["n_test"],
                "fit_seconds": timings["fit_seconds"],
                "train_samples_per_s": training["steady_samples_per_s"]
                or training.get("warm_samples_per_s")
                or training["samples_per_s"],
                "inference_samples_per_s": timings["inference"]["samples_per_s"],
                "latency_p50_ms": timings["latency"]["median_ms"],
                "train_gflops": (timings.get("efficiency") or {}).get("train_gflops"),
                "train_percent_of_peak": (timings.get("efficiency") or {}).get(
                    "train_percent_of_peak"
                ),
                "cpu": record["environment"]["cpu_model"],
                "host": timing_host(record),
            }
        )
    return pd.DataFrame(rows)


def timing_host(record: dict[str, Any]) -> str:
    """Where a run's timings were taken: host and CPU, plus a Dask worker's thread budget."""
    env = record["environment"]
    where = f"{env.get('hostname', '?')} ({env.get('cpu_model', '?')})"
    limits = (record.get("executor") or {}).get("thread_limits") or {}
    threads = limits.get("TF_NUM_INTRAOP_THREADS")
    return f"{where}, {threads} thread(s) per run" if threads else where


def hosts_note(frame: pd.DataFrame) -> list[str]:
    """A warning line when a table's timings come from more than one host (else nothing)."""
    hosts = frame["host"].nunique()
    if hosts < 2:
        return []
    return [
        f"**Timings from {hosts} different hosts** (column *Timed on*): compare train time, "
        "samples/s and latency only between rows timed on the same host. Accuracy and the "
        "pairwise tests compare across hosts.",
        "",
    ]


def main_table(frame: pd.DataFrame) -> str:
    """Markdown table of one dataset's models, best mean accuracy first.

    With several seeds a cell is ``mean ± half-width`` of the 95% t-interval over seeds; with
    one seed the accuracy carries its Wilson 95% interval over the test images instead.
    """
    rows = []
    groups = sorted(frame.groupby("model", sort=False), key=lambda g: -g[1]["accuracy"].mean())
    for rank, (name, runs) in enumerate(groups):
        if len(runs) == 1:
            run = runs.iloc[0]
            wilson = wilson_interval(round(run.accuracy * run.n_test), int(run.n_test))
            accuracy = f"{_pct(run.accuracy)} ({_pct(wilson.low)}–{_pct(wilson.high)})"
        else:
            accuracy = _mean_ci(runs["accuracy"], _pct)
        rows.append(
            [
                f"**{name}**" if rank == 0 else name,
                _count(runs["params"].iloc[0]),
                len(runs),
                accuracy,
                _mean_ci(runs["macro_f1"], "{:.4f}".format),
                _mean_ci(runs["fit_seconds"], "{:.1f}".format),
                _mean_ci(runs["train_samples_per_s"], _count),
                _efficiency(runs),
                _mean_ci(runs["inference_samples_per_s"], _count),
                _mean_ci(runs["latency_p50_ms"], "{:.2f}".format),
            ]
        )
    headers = [
        "Model",
        "Params",
        "Seeds",
        "Test acc (%)",
        "Macro F1",
        "Train time (s)",
        "Train samples/s",
        "Train GFLOP/s (% of peak)",
        "Inference samples/s",
        "Latency p50 (ms)",
    ]
    if frame["host"].nunique() > 1:
        headers.append("Timed on")
        for row, (_, runs) in zip(rows, groups, strict=True):
            row.append("; ".join(sorted(set(runs["host"]))))
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def pairwise_table(table: PairwiseTable) -> str:
    """Markdown table of paired comparisons: difference, its CI, McNemar and Holm p, verdict."""
    rows = []
    for pair, holm in zip(table.pairs, table.holm_p, strict=True):
        diff = pair.difference
        rows.append(
            [
                f"{pair.label_a} vs {pair.label_b}",
                len(pair.seeds),
                f"{100 * diff.estimate:+.2f}",
                f"{100 * diff.low:+.2f} to {100 * diff.high:+.2f}",
                _p(pair.max_p),
                _p(holm),
                short_verdict(pair, holm),
            ]
        )
    headers = [
        "A vs B",
        "Seeds",
        "Acc A − B (points)",
        "95% CI (paired bootstrap)",
        "McNemar p (largest over seeds)",
        "Holm-adjusted p",
        "Verdict (5% level)",
    ]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def headline(table: PairwiseTable, best: str) -> str:
    """One sentence: is the top model significantly better than each of the others?"""
    beaten, tied = [], []
    for pair, holm in zip(table.pairs, table.holm_p, strict=True):
        if best not in (pair.label_a, pair.label_b):
            continue
        other = pair.label_b if pair.label_a == best else pair.label_a
        (beaten if pair.winner(p_value=holm) == best else tied).append(other)
    parts = [f"Highest mean accuracy: **{best}**."]
    if beaten:
        parts.append(f"Significantly more accurate than {', '.join(beaten)}.")
    if tied:
        parts.append(f"Not significantly different from {', '.join(tied)}.")
    return " ".join(parts)


def per_run_table(records: list[dict[str, Any]], order: list[str]) -> str:
    """Every ok run: accuracy with its Wilson 95% interval, macro F1, times, record link."""
    rank = {label: i for i, label in enumerate(order)}
    rows = []
    for r in sorted(records, key=lambda r: (rank.get(label_of(r), 0), r["seed"])):
        n_test = r["metrics"]["n_test"]
        wilson = wilson_interval(round(r["metrics"]["accuracy"] * n_test), n_test)
        rows.append(
            [
                label_of(r),
                r["seed"],
                _pct(r["metrics"]["accuracy"]),
                f"{_pct(wilson.low)}–{_pct(wilson.high)}",
                f"{r['metrics']['macro_f1']:.4f}",
                f"{r['timings']['fit_seconds']:.1f}",
                _count(r["timings"]["inference"]["samples_per_s"]),
                f"[record](runs/{r['run_id']}/record.json)",
            ]
        )
    headers = [
        "Model",
        "Seed",
        "Test acc (%)",
        "Wilson 95% (%)",
        "Macro F1",
        "Train time (s)",
        "Inference samples/s",
        "Record",
    ]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def per_class_precision_table(
    records: list[dict[str, Any]], class_names: list[str], order: list[str] | None = None
) -> str:
    """Models x classes table of test precision (mean over seeds), rows in ``order``."""
    frame = pd.DataFrame(
        [
            {
                "model": label_of(r),
                **dict(zip(class_names, r["metrics"]["per_class"]["precision"], strict=True)),
            }
            for r in records
            if r["status"] == "ok"
        ]
    )
    means = frame.groupby("model", sort=False).mean()
    if order is not None:
        means = means.reindex(order)
    rows = [[name, *(f"{v:.3f}" for v in row)] for name, row in means.iterrows()]
    return tabulate(rows, headers=["Model", *class_names], tablefmt="github", disable_numparse=True)


def environment_table(records: list[dict[str, Any]]) -> str:
    """The distinct machines and library versions the records were produced with."""
    seen: dict[tuple, list[str]] = {}
    for record in records:
        env = record["environment"]
        if not env:  # a run lost with its worker has no environment to show
            continue
        libs = env.get("libraries", {})
        gpus = env.get("tensorflow_gpus")
        key = (
            env.get("cpu_model"),
            env.get("usable_cores"),
            "-" if gpus is None else (", ".join(gpus) or "none"),
            env.get("python"),
            libs.get("tensorflow"),
            libs.get("keras"),
            libs.get("scikit-learn"),
            libs.get("numpy"),
        )
        seen.setdefault(key, []).append(label_of(record))
    rows = [[*key, ", ".join(sorted(set(models)))] for key, models in seen.items()]
    headers = [
        "CPU",
        "Cores",
        "GPU used by TF",
        "Python",
        "TensorFlow",
        "Keras",
        "scikit-learn",
        "NumPy",
        "Models",
    ]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def time_to_accuracy_table(records: list[dict[str, Any]], order: list[str]) -> str:
    """Models x targets: median training seconds until validation accuracy first reached each.

    A cell is filled only when every seed of the model reached the target; otherwise it says
    how many seeds did.
    """
    targets = [f"{t:.2f}" for t in TIME_TO_ACCURACY_TARGETS]
    rows = []
    for label in order:
        runs = [r for r in records if label_of(r) == label]
        row = [label]
        for target in targets:
            reached = [
                r["timings"]["time_to_accuracy"][target]
                for r in runs
                if target in r["timings"].get("time_to_accuracy", {})
            ]
            if len(reached) == len(runs):
                row.append(f"{median(reached):.1f}")
            else:
                row.append(f"{len(reached)}/{len(runs)} seeds got there" if reached else "never")
        rows.append(row)
    if all(cell == "never" for row in rows for cell in row[1:]):
        lowest = min(TIME_TO_ACCURACY_TARGETS)
        return f"No model reached {100 * lowest:.0f}% test accuracy here during training."
    headers = ["Model", *(f"{100 * float(t):.0f}%" for t in targets)]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def cross_dataset_table(records: list[dict[str, Any]]) -> str:
    """Each model's mean accuracy and rank on every dataset, ordered by mean rank."""
    frame = summary_frame(records)
    means = frame.groupby(["model", "dataset"])["accuracy"].mean().unstack("dataset")
    ranks = means.rank(ascending=False, method="min")
    datasets = sorted(means.columns)
    mean_rank = ranks[datasets].mean(axis=1)
    rows = []
    for model in mean_rank.sort_values().index:
        cells = [
            "-"
            if pd.isna(means.at[model, d])
            else f"{_pct(means.at[model, d])} (#{int(ranks.at[model, d])})"
            for d in datasets
        ]
        rows.append([model, *cells, f"{mean_rank[model]:.1f}"])
    headers = ["Model", *(f"{d} acc % (rank)" for d in datasets), "Mean rank"]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def failed_table(records: list[dict[str, Any]]) -> str:
    """Runs that failed, with the reason."""
    rows = [
        [label_of(r), r["dataset"], r["seed"], f"{r['error']['type']}: {r['error']['message']}"]
        for r in records
        if r["status"] == "failed"
    ]
    return tabulate(rows, headers=["Model", "Dataset", "Seed", "Reason"], tablefmt="github")


def dataset_section(
    dataset: str, records: list[dict[str, Any]], figures: DatasetFigures | None = None
) -> list[str]:
    """Markdown lines for one dataset: main table, pairwise tests, figures, per-run results."""
    from bench.results.figures import model_order

    ok = [r for r in records if r["status"] == "ok"]
    lines = [f"## {dataset}", ""]
    if not ok:
        return [*lines, "No successful runs yet.", ""]
    class_names = list(ok[0]["dataset_info"]["class_names"])
    n_train, n_test = ok[0]["n_train"], ok[0]["n_test"]
    order = model_order(ok)
    pairwise = compare_all(ok, dataset, order)
    frame = summary_frame(ok)
    lines += [
        f"{len(ok)} successful run(s); test set {n_test:,} images, trained on {n_train:,}. "
        "Cells with several seeds read *mean ± half-width of the 95% t-interval over seeds* "
        "(Student's t, K−1 degrees of freedom); a model with one seed shows its Wilson 95% "
        "interval over the test images in parentheses instead. Train samples/s excludes the "
        "first epoch (graph building) and validation; inference is warm, median of repeated "
        "passes over the test set; latency is one image per call, median of 500. "
        "GFLOP/s counts 2 FLOPs per multiply-add, training as 3x the forward pass; "
        "% of peak divides it by the float32 matmul peak measured in the same process.",
        "",
        main_table(frame),
        "",
        *hosts_note(frame),
        "### Pairwise comparisons",
        "",
    ]
    if pairwise.pairs:
        lines += [
            headline(pairwise, order[0]),
            "",
            pairwise_table(pairwise),
            "",
            "Each pair is compared on the same test images, seed by seed: McNemar's exact test "
            "on the images exactly one of the two got right, and a paired bootstrap (10,000 "
            "resamples of the test images, percentile) of the accuracy difference averaged over "
            "the common seeds. A pair's p-value is its largest per-seed p-value, so "
            "*significant* means significant on every seed. "
            f"With {len(pairwise.pairs)} comparison(s) some small p-values are expected by "
            "chance, so the verdict uses Holm-adjusted p-values (Holm's step-down correction "
            "over every pair in this table), which keep the chance of any false "
            "*better* at or below 5%. `python -m bench compare A B` prints the details.",
            "",
        ]
    else:
        lines += ["Only one model has runs here: nothing to compare.", ""]
    lines += [f"Not compared: {reason}" for reason in pairwise.not_comparable]
    if pairwise.not_comparable:
        lines.append("")
    if figures is not None:
        lines += ["### Figures", ""]
        lines += [f"![{dataset}: {f.caption}]({f.path})\n" for f in figures.overview]
        lines += ["### Confusion matrices and learning curves", ""]
        lines += [
            f"- **{label}**: " + " · ".join(f"[{f.caption}]({f.path})" for f in own)
            for label, own in figures.per_model.items()
        ]
        lines.append("")
    lines += [
        "### Time to accuracy",
        "",
        "Training seconds (validation excluded, graph building included) until the test-set "
        "accuracy measured after each epoch first reached the target; median over seeds.",
        "",
        time_to_accuracy_table(ok, order),
        "",
        "### Per-class precision",
        "",
        per_class_precision_table(ok, class_names, order),
        "",
        "### Per-run results",
        "",
        per_run_table(ok, order),
        "",
    ]
    return lines


def stale_table(stale: list[StaleRecord]) -> str:
    """Records left out of every table, with the reason."""
    rows = [[s.label, s.dataset, s.seed, s.reason, f"`runs/{s.path.parent.name}`"] for s in stale]
    return tabulate(
        rows, headers=["Model", "Dataset", "Seed", "Why left out", "Record"], tablefmt="github"
    )


def dataset_order(names: Iterable[str]) -> list[str]:
    """Datasets in registry order (MNIST first), unknown names after them alphabetically."""
    from bench.data import dataset_names

    known = dataset_names()
    return sorted(
        names, key=lambda name: (known.index(name) if name in known else len(known), name)
    )


def leaderboard_markdown(
    records: list[dict[str, Any]],
    figures: dict[str, DatasetFigures] | None = None,
    stale: list[StaleRecord] | None = None,
) -> str:
    """The whole LEADERBOARD.md text for the current ``records``; ``stale`` ones are listed."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# mnist-bench leaderboard",
        "",
        f"Generated by `python -m bench report` on {stamp} from {len(records)} run record(s) "
        "under `runs/`. Do not edit by hand: rerun the report instead.",
        "",
    ]
    datasets = dataset_order({r["dataset"] for r in records})
    if len(datasets) > 1 and any(r["status"] == "ok" for r in records):
        lines += [
            "## Across datasets",
            "",
            "Mean test accuracy over seeds, with each model's rank on that dataset; a model "
            "that keeps its rank on the harder dataset keeps its lead.",
            "",
            cross_dataset_table([r for r in records if r["status"] == "ok"]),
            "",
        ]
    for dataset in datasets:
        lines += dataset_section(
            dataset,
            [r for r in records if r["dataset"] == dataset],
            (figures or {}).get(dataset),
        )
    if any(r["status"] == "failed" for r in records):
        lines += ["## Failed runs", "", failed_table(records), ""]
    if stale:
        lines += [
            "## Left out: stale records",
            "",
            f"{len(stale)} record(s) were produced by another schema version or another "
            "configuration than the newest run of the same model, so they are not mixed into "
            "any table above. Rerun those models (`python -m bench run ... --resume`) or delete "
            "the records.",
            "",
            stale_table(stale),
            "",
        ]
    lines += ["## Environment", "", environment_table(records), ""]
    return "\n".join(lines)


def write_leaderboard(results_dir: Path) -> Path:
    """Regenerate ``results_dir/LEADERBOARD.md`` and its figures from the records there."""
    from bench.results.figures import write_figures

    record_set = scan_records(results_dir)
    figures = write_figures(record_set.current, results_dir)
    path = Path(results_dir) / LEADERBOARD_FILE
    atomic_write_text(path, leaderboard_markdown(record_set.current, figures, record_set.stale))
    return path


def _mean_ci(values: pd.Series, fmt: Any) -> str:
    """``mean ± half-width`` (95% t-interval over seeds), or the mean alone for one value."""
    ci = t_interval(values.dropna().tolist())
    mean = values.mean()
    if pd.isna(mean):
        return "-"
    return fmt(mean) if ci is None else f"{fmt(mean)} ± {fmt(ci.half_width)}"


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.2f}"


def _p(value: float) -> str:
    return format_p_value(value)


def _efficiency(runs: pd.DataFrame) -> str:
    """Mean training GFLOP/s with its mean share of the machine's matmul peak, or "-"."""
    gflops, percent = runs["train_gflops"].mean(), runs["train_percent_of_peak"].mean()
    return "-" if pd.isna(gflops) or pd.isna(percent) else f"{gflops:.1f} ({percent:.0f}%)"


def _count(value: Any) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{int(round(value)):,}"
