"""What tuning bought: each model's tuned preset against its own defaults, on the test set.

:func:`tuning_gain_frame` is pure, built from the run records and the aggregate's races: one
paired test per model that ran in both races of a dataset (the same test images; seeds paired
where both have them), Holm-adjusted over the tests of this frame (a question of its own, apart
from the races' verdicts), with the model's rank in either race. :func:`tuning_gain_markdown`
formats it and names the pairs of models whose order the tuning changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from bench.results.report import markdown_format as fmt
from bench.results.report.frames_tuning import DEFAULTS_RACE, TUNED_RACE
from bench.results.stats.intervals import format_p_value, holm_adjust
from bench.results.stats.pairwise import NotComparable, compare_models, verdict_words
from bench.results.store.record import RunRecord

GAIN_COLUMNS = [
    "dataset",
    "tuned",
    "defaults",
    "rank_defaults",
    "rank_tuned",
    "acc_defaults",
    "acc_tuned",
    "seeds_defaults",
    "seeds_tuned",
    "diff",
    "low",
    "high",
    "p",
    "p_holm",
    "verdict",
]


def tuning_gain_frame(records: Sequence[RunRecord], agg: Any) -> pd.DataFrame:
    """One row per (dataset, model) with runs in both races: mean test accuracy and rank in
    each race, the tuned minus defaults difference (points) with its 95% interval, the p-value
    before and after Holm, and the verdict."""
    rows, pairs = [], []
    for (dataset, race), tuned_labels in agg.races.items():
        if race != TUNED_RACE:
            continue
        at_defaults = agg.races.get((dataset, DEFAULTS_RACE), [])
        mine = [r for r in records if r.dataset == dataset]
        for tuned in tuned_labels:
            base = agg.summary.at[(dataset, tuned), "defaults_label"]
            if base not in at_defaults:
                continue
            try:
                pair = compare_models(mine, tuned, base, dataset, False, agg.answers)
            except NotComparable:  # seeds tested on different images: nothing to pair
                continue
            pairs.append(pair)
            rows.append(
                {
                    "dataset": dataset,
                    "tuned": tuned,
                    "defaults": base,
                    "rank_defaults": at_defaults.index(base) + 1,
                    "rank_tuned": tuned_labels.index(tuned) + 1,
                    "acc_defaults": agg.summary.at[(dataset, base), "accuracy"],
                    "acc_tuned": agg.summary.at[(dataset, tuned), "accuracy"],
                    "seeds_defaults": len(pair.seeds_b),
                    "seeds_tuned": len(pair.seeds_a),
                    "diff": 100 * pair.difference.estimate,
                    "low": 100 * pair.difference.low,
                    "high": 100 * pair.difference.high,
                    "p": pair.p_value,
                }
            )
    frame = pd.DataFrame(rows, columns=GAIN_COLUMNS)
    frame["p_holm"] = holm_adjust(frame["p"].tolist())
    frame["verdict"] = [
        verdict_words(pair, p) for pair, p in zip(pairs, frame["p_holm"], strict=True)
    ]
    return frame


def order_changes(part: pd.DataFrame) -> list[tuple[str, str]]:
    """The pairs ``(a, b)`` of models (by their defaults label) that rank a above b at
    defaults and b above a once tuned, among the models of ``part`` (one dataset)."""
    ranks = list(zip(part["defaults"], part["rank_defaults"], part["rank_tuned"], strict=True))
    return [
        (a, b)
        for a, a_defaults, a_tuned in ranks
        for b, b_defaults, b_tuned in ranks
        if a_defaults < b_defaults and a_tuned > b_tuned
    ]


def order_change_sentence(changes: list[tuple[str, str]]) -> str:
    """:func:`order_changes` in words, one clause per model that moved up:
    ``[("a", "b"), ("c", "b")]`` -> "Tuned, b passed a and c. ..."."""
    if not changes:
        return "Tuning changed no model's place relative to another's."
    passed: dict[str, list[str]] = {}
    for behind, ahead in changes:
        passed.setdefault(ahead, []).append(behind)
    clauses = [f"{ahead} passed {_and_list(others)}" for ahead, others in passed.items()]
    return (
        f"Tuned, {'; '.join(clauses)}. Whether a new order is a verdict is the tuned race's "
        "pairwise tests' to say."
    )


def _and_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


GAIN_HEADERS = [
    "Model",
    "At defaults % (rank)",
    "Tuned % (rank)",
    "Tuned - defaults, points [95% CI]",
    "Seeds",
    "p (Holm)",
    "Verdict",
]


def tuning_gain_markdown(frame: pd.DataFrame, dataset: str) -> list[str]:
    """The section of one dataset; nothing when no model has run in both races there."""
    part = frame[frame["dataset"] == dataset]
    if part.empty:
        return []
    rows = [
        [
            r.defaults,
            f"{fmt.pct(r.acc_defaults)} ({r.rank_defaults})",
            f"{fmt.pct(r.acc_tuned)} ({r.rank_tuned})",
            f"{r.diff:+.2f} [{r.low:+.2f}, {r.high:+.2f}]",
            f"{r.seeds_defaults} / {r.seeds_tuned}",
            format_p_value(r.p_holm),
            r.verdict,
        ]
        for r in part.itertuples()
    ]
    swapped = order_change_sentence(order_changes(part))
    lines = ["### What tuning bought (test set)", ""]
    lines += fmt.wrap(
        "Each model's tuned preset against its own defaults, on the same test images: mean "
        "test accuracy and rank within each race, the paired difference over seeds and "
        f"images, Holm-adjusted over all {len(frame)} such test(s), every dataset's. {swapped}"
    )
    return [*lines, "", fmt.table(rows, GAIN_HEADERS), ""]
