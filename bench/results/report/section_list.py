"""The built-in report sections, each registered once with its pages, frames and figures.

The ``order`` numbers place a section on its pages; they are spaced so that a new section can
go between two (see docs/report.md). Dataset sections that follow each other render dataset
by dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from bench.results.report import html_sections as html
from bench.results.report import markdown as md
from bench.results.report import markdown_closing as closing
from bench.results.report import markdown_runs as runs
from bench.results.report.deploy import deploy_frame, deploy_markdown
from bench.results.report.frames_tuning import TUNED_RACE, search_spread_frame, trial_counts
from bench.results.report.sections import HTML, RUNS, SectionContext, report_section
from bench.results.report.tuning_gain import tuning_gain_frame, tuning_gain_markdown
from bench.results.store.record import RunRecord


def _dataset(ctx: SectionContext) -> str:
    assert ctx.dataset is not None  # a dataset section is always given its dataset
    return ctx.dataset


# --- LEADERBOARD.md (and the dashboard's counterparts) -----------------------------------------


@report_section("header", order=0, scope="report", frames=("runs", "failed"), html=html.header)
def _header(ctx: SectionContext) -> list[str]:
    return md.header_lines(ctx.agg, ctx.generated, ctx.stale)


@report_section(
    "verdicts",
    order=10,
    scope="report",
    frames=("recommendations", "verdicts", "summary", "datasets"),
    html=html.recommendations,
)
def _verdicts(ctx: SectionContext) -> list[str]:
    if not ctx.agg.order:
        return []
    lines = ["## Verdicts and recommendation", ""]
    for dataset in ctx.agg.order:
        lines += md.verdict_lines(ctx.agg, dataset)
    return lines


@report_section("failed", order=20, scope="report", frames=("failed",))
def _failed(ctx: SectionContext) -> list[str]:
    return md.failed_lines(ctx.agg)


@report_section(
    "main_table",
    order=100,
    frames=("summary", "datasets", "runs"),
    figures=("accuracy_vs_training_time",),
)
def _main_table(ctx: SectionContext) -> list[str]:
    dataset = _dataset(ctx)
    lines = md.dataset_heading(ctx.agg, dataset)
    lines += [md.compact_table(ctx.agg, dataset), ""]
    lines += md.compact_notes(ctx.agg, dataset)
    return lines + ctx.image("accuracy_vs_training_time")


@report_section(
    "pairwise",
    order=110,
    frames=("pairwise", "differences"),
    figures=("pairwise",),
    html=html.pairwise,
)
def _pairwise(ctx: SectionContext) -> list[str]:
    lines = ["### Pairwise tests", "", *md.pairwise_lines(ctx.agg, _dataset(ctx), compact=True)]
    return lines + ctx.image("pairwise")


@report_section("across_datasets", order=300, scope="report", frames=("cross_dataset",))
def _across(ctx: SectionContext) -> list[str]:
    if ctx.agg.cross_dataset.empty:
        return []
    return ["## Across datasets", "", closing.cross_dataset_table(ctx.agg), ""]


@report_section("published", order=310, scope="report", frames=("published",))
def _published(ctx: SectionContext) -> list[str]:
    return [] if ctx.agg.published.empty else closing.published_section(ctx.agg, compact=True)


@report_section("published_sources", order=310, scope="report", page=RUNS, frames=("published",))
def _published_sources(ctx: SectionContext) -> list[str]:
    return [] if ctx.agg.published.empty else closing.published_section(ctx.agg)


@report_section("replication_note", order=320, scope="report", frames=("replication_epochs",))
def _replication_note(ctx: SectionContext) -> list[str]:
    if ctx.agg.replication_epochs.empty:
        return []
    return [
        "## Replication of the Keras tutorial",
        "",
        f"The tutorial's numbers beside ours, epoch by epoch and digit by digit: [{runs.RUNS_FILE}]"
        f"({runs.RUNS_FILE}#replication-of-the-keras-tutorial).",
        "",
    ]


# --- the dashboard only -------------------------------------------------------------------------


@report_section(
    "results_table",
    order=50,
    scope="report",
    frames=("summary", "datasets"),
    page=HTML,
)
def _results_table(ctx: SectionContext) -> str:
    return html.results_table(ctx)


@report_section("accuracy_vs_speed", order=105, frames=("summary", "runs"), page=HTML)
def _accuracy_vs_speed(ctx: SectionContext) -> str:
    return html.accuracy_vs_speed(ctx)


# --- RUNS.md (and the dashboard's counterparts) ------------------------------------------------


@report_section("runs_header", order=0, scope="report", page=RUNS)
def _runs_header(ctx: SectionContext) -> list[str]:
    return runs.runs_header(ctx.generated)


@report_section(
    "full_table",
    order=100,
    page=RUNS,
    frames=("summary", "datasets", "runs", "notes"),
    figures=("accuracy_vs_inference_throughput",),
)
def _full_table(ctx: SectionContext) -> list[str]:
    dataset = _dataset(ctx)
    lines = md.dataset_heading(ctx.agg, dataset)
    lines += [md.main_table(ctx.agg, dataset), ""]
    lines += md.main_table_notes(ctx.agg, dataset)
    lines += md.tuning_notes(ctx.agg, dataset)
    return lines + ctx.image("accuracy_vs_inference_throughput")


@report_section(
    "time_to_accuracy",
    order=110,
    page=RUNS,
    frames=("time_to_accuracy", "datasets", "history"),
    figures=("learning_curves",),
    html=html.learning,
)
def _time_to_accuracy(ctx: SectionContext) -> list[str]:
    from bench.results.report.figures import curve_models

    dataset = _dataset(ctx)
    lines = ["### Time to accuracy", ""]
    lines += md.fmt.wrap(
        "Training-clock seconds until the validation accuracy first reached each target: "
        "median [min–max] over the seeds not flagged busy when every one reached it; when "
        "more than half did, the median with the others counted as never arriving, and how "
        "many reached it."
    )
    lines += ["", md.time_to_accuracy_table(ctx.agg, dataset), ""]
    history = ctx.agg.history[ctx.agg.history["dataset"] == dataset]
    curved, left_out = curve_models(history, ctx.agg.order[dataset])
    if curved and left_out:
        lines += md.fmt.wrap(
            f"The learning curves leave out {', '.join(left_out)}: one epoch (or no "
            "per-epoch history) draws no curve."
        ) + [""]
    return lines + ctx.image("learning_curves")


@report_section("backends", order=120, page=RUNS, frames=("backends",))
def _backends(ctx: SectionContext) -> list[str]:
    return md.backend_lines(ctx.agg, _dataset(ctx))


@report_section(
    "per_class",
    order=130,
    page=RUNS,
    frames=("per_class", "confusion"),
    figures=("per_class_f1", "confusion"),
    html=html.per_class,
)
def _per_class(ctx: SectionContext) -> list[str]:
    lines = ctx.image("per_class_f1") + ctx.image("confusion")
    return ["### Per class", "", *lines] if lines else []


@report_section(
    "calibration",
    order=140,
    page=RUNS,
    frames=("calibration", "reliability"),
    figures=("reliability",),
    html=html.reliability,
)
def _calibration(ctx: SectionContext) -> list[str]:
    lines = md.calibration_lines(ctx.agg, _dataset(ctx))
    return lines + ctx.image("reliability") if lines else []


@report_section(
    "robustness",
    order=150,
    page=RUNS,
    frames=("robustness", "corruptions"),
    figures=("corruption_heatmap", "corruption_samples"),
    html=html.robustness,
)
def _robustness(ctx: SectionContext) -> list[str]:
    lines = md.robustness_lines(ctx.agg, _dataset(ctx))
    if not lines:
        return []
    return lines + ctx.image("corruption_heatmap") + ctx.image("corruption_samples")


@report_section("per_run", order=160, page=RUNS, frames=("runs",))
def _per_run(ctx: SectionContext) -> list[str]:
    return ["### Every run", "", runs.per_run_table(ctx.agg, _dataset(ctx)), ""]


@report_section("pairwise_detail", order=170, page=RUNS, frames=("pairwise",))
def _pairwise_detail(ctx: SectionContext) -> list[str]:
    dataset = _dataset(ctx)
    lines = ["### Pairwise tests, every column", "", *md.pairwise_lines(ctx.agg, dataset)]
    table = runs.mcnemar_table(ctx.agg, dataset)
    if table:
        lines += ["### McNemar's exact test per common seed", "", table, ""]
    return lines


@report_section(
    "replication",
    order=300,
    scope="report",
    page=RUNS,
    frames=("replication_epochs", "replication_diagonal"),
)
def _replication(ctx: SectionContext) -> list[str]:
    return [] if ctx.agg.replication_epochs.empty else closing.replication_section(ctx.agg)


@report_section("tuned_race", order=115, frames=("tuning",), figures=("best_so_far",))
def _tuned_race(ctx: SectionContext) -> list[str]:
    dataset = _dataset(ctx)
    if "tuning" not in ctx.agg.extra:  # a report written without its results folder
        return []
    trials = ctx.frame("tuning")
    counts = trial_counts(trials[trials["dataset"] == dataset])
    if counts.empty:
        return []
    rows = [
        [
            r.model,
            r.study,
            r.trials,
            r.complete,
            r.pruned,
            r.failed,
            f"{r.budget_seconds:g}",
            f"{r.train_seconds:,.0f}",
            f"{100 * r.best_val_accuracy:.2f}",
        ]
        for r in counts.itertuples()
    ]
    headers = ["Model", "Study", "Trials", "Complete", "Pruned", "Failed", "Budget s / trial"]
    headers += ["Training s spent", "Best val %"]
    lines = ["### Tuning at equal budget (bench tune)", ""]
    lines += md.fmt.wrap(
        "Each model's search on the validation split: its trials, how many the pruner "
        "stopped or failed, the training seconds each trial was allowed and all its trials "
        "spent, and the best validation accuracy found (the best of many trials, so an "
        "optimistic estimate: the tuned race's own runs are the measure). "
        + _tuned_race_state(ctx, dataset, trials)
    )
    lines += ["", md.fmt.table(rows, headers), ""]
    return [*lines, *_search_spread(ctx, dataset, trials), *ctx.image("best_so_far")]


def _search_spread(ctx: SectionContext, dataset: str, trials: pd.DataFrame) -> list[str]:
    """The search's own variance on ``dataset``: one row per model searched with several
    search seeds (nothing when there is none)."""
    spread = search_spread_frame(trials[trials["dataset"] == dataset], ctx.agg.summary)
    if spread.empty:
        return []

    def percents(values: list[float]) -> str:
        return " / ".join("-" if pd.isna(v) else md.fmt.pct(v) for v in values)

    rows = [
        [
            r.model,
            ", ".join(str(seed) for seed in r.search_seeds),
            percents(r.best_val),
            percents(r.test),
            f"{r.val_spread:.2f}",
            "-" if pd.isna(r.test_spread) else f"{r.test_spread:.2f}",
        ]
        for r in spread.itertuples()
    ]
    headers = ["Model", "Search seeds", "Best val %", "Test % of the preset", "Val spread"]
    headers.append("Test spread")
    lines = md.fmt.wrap(
        "The search's own variance: the same study with another search seed. The spread "
        "(largest minus smallest, points) is how much a tuned result owes to the search's "
        "draw; a gap between two models smaller than it says little about the models. A "
        'search seed\'s preset runs as `MODEL:tuned-s<K>` ("-": not run yet).'
    )
    return [*lines, "", md.fmt.table(rows, headers), ""]


@report_section("tuning_gain", order=116, frames=("tuning_gain",), build=tuning_gain_frame)
def _tuning_gain(ctx: SectionContext) -> list[str]:
    if "tuning_gain" not in ctx.agg.extra:  # a page rendered without its sections' own frames
        return []
    return tuning_gain_markdown(ctx.frame("tuning_gain"), _dataset(ctx))


def _tuned_race_state(ctx: SectionContext, dataset: str, trials: pd.DataFrame) -> str:
    """Whether the tuned presets of ``dataset`` have raced, and the command for those that
    have not."""
    entrants = ctx.agg.races.get((dataset, TUNED_RACE), [])
    if not entrants:
        return (
            "The tuned race has not run on this dataset yet: "
            f"`python -m bench run --all --preset tuned --dataset {dataset} --repeats 5`."
        )
    raced = set(ctx.agg.summary.loc[[(dataset, label) for label in entrants], "registered"])
    studied = trials.loc[(trials["dataset"] == dataset) & (trials["search_seed"] == 0), "model"]
    waiting = sorted(set(studied) - raced)
    text = "The tuned presets race in the rows labelled 'tuned' above."
    if waiting:
        text += (
            f" Tuned but not raced yet: {', '.join(waiting)} (`python -m bench run --model "
            f"{','.join(f'{m}:tuned' for m in waiting)} --dataset {dataset} --repeats 5`)."
        )
    return text


def _deploy_frame(records: Sequence[RunRecord], agg: Any) -> pd.DataFrame:
    return deploy_frame(records)


@report_section(
    "deploy",
    order=200,
    scope="report",
    frames=("deploy",),
    build=_deploy_frame,
    html=html.deploy,
)
def _deploy(ctx: SectionContext) -> list[str]:
    if "deploy" not in ctx.agg.extra:  # a page rendered without its sections' own frames
        return []
    return deploy_markdown(ctx.frame("deploy"))


@report_section("failed_runs", order=400, scope="report", page=RUNS, frames=("failed",))
def _failed_runs(ctx: SectionContext) -> list[str]:
    return runs.failed_table(ctx.agg)


@report_section("stale", order=410, scope="report", page=RUNS)
def _stale(ctx: SectionContext) -> list[str]:
    return runs.stale_lines(ctx.stale)


@report_section("environment", order=420, scope="report", page=RUNS, frames=("environment",))
def _environment(ctx: SectionContext) -> list[str]:
    return runs.environment_lines(ctx.agg)


@report_section("method", order=430, scope="report", page=RUNS, frames=("runs",))
def _method(ctx: SectionContext) -> list[str]:
    return closing.method_section(ctx.agg)
