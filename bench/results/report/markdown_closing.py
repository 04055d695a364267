"""The leaderboard's closing sections: across datasets, the replication of the Keras tutorial,
published results beside ours, and how the numbers are made (the method, once)."""

from __future__ import annotations

import pandas as pd

from bench.measure.calibration import ECE_BINS
from bench.results.report import markdown_format as fmt
from bench.results.report.aggregate import BUSY_PEAK_SHORTFALL, Aggregates
from bench.results.stats.intervals import (
    ALPHA,
    CONFIDENCE,
    MIN_SEEDS,
    format_p_value,
)
from bench.results.stats.replication import reproduction_test, sign_test


def cross_dataset_table(agg: Aggregates) -> str:
    """Each model's mean accuracy and rank per dataset, and its mean rank."""
    frame = agg.cross_dataset
    datasets = list(frame["accuracy"].columns)
    rows = []
    for model, row in frame.iterrows():
        cells = [
            "-"
            if pd.isna(row[("accuracy", d)])
            else f"{fmt.pct(row[('accuracy', d)])} (#{int(row[('rank', d)])})"
            for d in datasets
        ]
        rows.append([model, *cells, f"{row[('mean_rank', '')]:.1f}"])
    titles = [agg.datasets.at[d, "title"] for d in datasets]
    return fmt.table(rows, ["Model", *(f"{t} acc % (rank)" for t in titles), "Mean rank"])


def replication_section(agg: Aggregates) -> list[str]:
    """The tutorial's logged numbers beside ours, per epoch and per digit."""
    from bench.results.report.article_log import ARTICLE_SOURCE

    epochs, diagonal = agg.replication_epochs, agg.replication_diagonal
    model = epochs["model"].iloc[0]
    n = int(epochs["n_seeds"].max())
    epoch_rows = [
        [
            int(r.epoch),
            f"{r.article:.4f}",
            fmt.mean_interval(r.ours, r.low, r.high, "{:.4f}"),
            "-" if pd.isna(r.difference) else f"{r.difference:+.4f}",
            "yes" if r.inside else "no",
        ]
        for r in epochs.itertuples()
    ]
    class_rows = [
        [
            int(r.digit),
            int(r.article),
            fmt.mean_interval(r.ours, r.low, r.high, "{:.1f}"),
            "-" if pd.isna(r.difference) else f"{r.difference:+.1f}",
            "yes" if r.inside else "no",
        ]
        for r in diagonal.itertuples()
    ]
    total_ours = diagonal["ours"].sum()
    return [
        "## Replication of the Keras tutorial",
        "",
        *fmt.wrap(
            f"`{model}` under the tutorial's protocol (the test set serves as validation data, "
            f"as in the article), {n} seed(s), beside {ARTICLE_SOURCE}. Ours: mean over seeds "
            f"with its {CONFIDENCE:.0%} t-interval. {replication_summary(epochs, 'epoch')}"
        ),
        "",
        fmt.table(
            epoch_rows,
            ["Epoch", "Article val acc", "Ours val acc [95% CI]", "Ours − article", "Inside?"],
        ),
        "",
        *fmt.wrap(final_epoch_words(epochs)),
        "",
        *fmt.wrap(
            "Correct test images per digit (the diagonal of the final confusion matrix): "
            f"article {int(diagonal['article'].sum()):,} in all, ours {total_ours:,.1f}. "
            + replication_summary(diagonal, "digit")
        ),
        "",
        fmt.table(class_rows, ["Digit", "Article", "Ours [95% CI]", "Ours − article", "Inside?"]),
        "",
    ]


def replication_summary(frame: pd.DataFrame, row: str) -> str:
    """One sentence from the numbers: where ours runs against the article (sign test) and
    the rows where the article's value falls outside our interval."""
    test = sign_test(frame["difference"].to_numpy())
    rows = len(frame)
    if test.above > test.below:
        lead = f"Ours runs higher at {test.above} of {rows} {row}s"
    elif test.below > test.above:
        lead = f"Ours runs lower at {test.below} of {rows} {row}s"
    else:
        lead = f"Ours runs higher at {test.above} and lower at {test.below} of {rows} {row}s"
    outside = [str(int(v)) for v, inside in zip(frame[row], frame["inside"], strict=True)]
    outside = [v for v, inside in zip(outside, frame["inside"], strict=True) if not inside]
    where = (
        f"the article's value is outside our interval at {row}{'s' if len(outside) > 1 else ''} "
        f"{', '.join(outside)}"
        if outside
        else f"the article's value is inside our interval at every {row}"
    )
    return f"{lead} (sign test p {format_p_value(test.p_value)}); {where}."


def final_epoch_words(epochs: pd.DataFrame) -> str:
    """Does the article's final validation accuracy look like one more seed of ours? TOST."""
    last = epochs.dropna(subset=["ours"]).iloc[-1]
    result = reproduction_test(
        last["ours"], last["low"], last["high"], int(last["n_seeds"]), last["article"]
    )
    if result is None:
        return "Final epoch: too few seeds to judge whether the article's run is reproduced."
    return (
        f"Final epoch ({int(last['epoch'])}): the article's run against ours as one more seed "
        f"would be: **{result.words}** (TOST within ±{100 * result.margin:.1f} points "
        f"p {format_p_value(result.p_equivalent)}; difference p "
        f"{format_p_value(result.p_different)})."
    )


def published_section(agg: Aggregates, compact: bool = False) -> list[str]:
    """Published test error beside ours, and whether it lies inside our interval; ``compact``
    leaves out the source and conditions columns (RUNS.md has them)."""
    rows = [
        [
            agg.datasets.at[r.dataset, "title"],
            r.model,
            f"{r.published_error:.2f}",
            f"{r.our_error:.2f} [{r.low:.2f}, {r.high:.2f}]",
            "yes" if r.inside else "no",
            r.n_seeds,
            r.source,
            r.conditions,
        ]
        for r in agg.published.itertuples()
    ]
    headers = [
        "Dataset",
        "Model",
        "Published error %",
        "Our error % [95% CI]",
        "Inside?",
        "Seeds",
        "Source",
        "Their conditions",
    ]
    where = ""
    if compact:
        rows, headers = [row[:6] for row in rows], headers[:6]
        where = " The sources and their conditions are in RUNS.md."
    return [
        "## Published vs ours",
        "",
        *fmt.wrap(
            "Test error of models that reproduce a published result. *Inside?* says whether "
            "the published number lies within our 95% interval; conditions that differ "
            "(preprocessing, epochs, augmentation) explain gaps more often than bugs do." + where
        ),
        "",
        fmt.table(rows, headers),
        "",
    ]


# --- method ---------------------------------------------------------------------------------


def method_section(agg: Aggregates) -> list[str]:
    """How the numbers are made, once, with every constant read from the code or the runs."""
    latency = _used(agg.runs["latency_calls"])
    passes = _used(agg.runs["inference_passes"])
    paragraphs = [
        f"**Accuracy intervals.** The test-accuracy cell is the mean over seeds and test "
        f"images with its {CONFIDENCE:.0%} interval from the model the pairwise tests use: "
        "training seeds and test images as crossed random factors, the seed level from the "
        "spread of the per-seed accuracies, the image level from the per-image answers, "
        "Student's t with Satterthwaite's degrees of freedom. A model whose predictions do "
        "not depend on the seed, or with one seed, has the image level only. *Seed sd* is the "
        "standard deviation of the per-seed accuracies. Other quality columns show mean ± "
        "the t half-width over seeds.",
        f"**Pairwise tests.** Each model is tested against the best one and against the model "
        f"ranked just above it, so the number of tests grows with the number of models. A "
        "test is Welch's t-test generalised to seeds and paired test images: the variance of "
        "the difference of mean accuracies is each model's seed-level variance of its mean "
        "(never cut to zero) plus the variance of the paired per-image differences left "
        "after the seed-by-image noise, with Satterthwaite's degrees of freedom; the interval "
        f"is the {CONFIDENCE:.0%} t-interval and the p-value two-sided and analytic (no "
        "resampling). Holm's correction runs over every test on this page. A *better* verdict "
        f"needs a Holm-adjusted p below {ALPHA}, an interval that excludes 0 and at least "
        f"{MIN_SEEDS} seeds of each model (one run of a model whose predictions "
        "do not depend on the seed); otherwise the table says how many seeds are missing. "
        "Each *no significant difference* states the test's resolution: the smallest true "
        f"difference it finds 80% of the time at alpha {ALPHA} (before Holm), from the "
        "observed variances. McNemar's exact test on each common seed is in RUNS.md as "
        "detail: it compares two runs, not two models. Details: docs/statistics.md.",
        "**Speed.** Train time is the training clock (training steps only: no data loading, "
        "no validation, no evaluation), median [min–max] over the runs not flagged busy. "
        "Train images/s leaves "
        "out the first epoch (graph building) where there are several. Inference is warm, "
        f"the median of {passes} pass(es) over the test set; latency is one image per "
        f"call, the median of {latency} calls. Time to accuracy is training-clock seconds "
        "until the validation accuracy, checked during training, first reached the target. "
        "A run is flagged *machine busy* when the matmul probe at its start fell more than "
        f"{BUSY_PEAK_SHORTFALL:.0%} below the median of the report's runs on the same host. "
        "Each run's peak resident memory and the wall time of its phases (data, build, "
        "train, evaluate, robustness, measure) are in RUNS.md.",
        f"**Calibration.** Log-loss, the multiclass Brier score and the expected calibration "
        f"error over {ECE_BINS} equal-width confidence bins, on the test set; the reliability "
        "diagram pools the bins of all seeds.",
        "**Model order.** Within a dataset, models are ranked by mean test accuracy.",
    ]
    lines = ["## How these numbers are made", ""]
    for paragraph in paragraphs:
        lines += fmt.wrap(paragraph) + [""]
    return lines


def _used(column: pd.Series) -> str:
    """The value(s) the runs used, e.g. ``500`` or ``200 or 500``."""
    values = sorted({int(v) for v in column.dropna()})
    return " or ".join(f"{v:,}" for v in values) if values else "(not recorded)"
