"""Paired comparison of two models from their stored test-set predictions, seed by seed.

Two runs are paired when they share dataset and seed and were tested on the same labels in the
same order (so the same images). For each pair of runs: both accuracies with Wilson intervals,
McNemar's exact test and a paired bootstrap interval of the difference; over all common seeds:
the bootstrap interval of the seed-averaged difference and the largest per-seed p-value.
Reading the largest p-value means "different" has to hold on every seed (an intersection-union
test, valid at the same level without a correction across seeds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.errors import BenchError
from bench.results.stats import (
    ALPHA,
    Interval,
    contingency_table,
    format_p_value,
    mcnemar_exact_p,
    paired_bootstrap_difference,
    wilson_interval,
)
from bench.run.config import split_model_ref
from bench.run.spec import model_label


class NotComparable(BenchError):
    """Two models have no runs that can be paired (no common seed, or different test sets)."""


def label_of(record: dict[str, Any]) -> str:
    """``model`` or ``model:preset`` as tables show it."""
    return model_label(record["model"], record["preset"])


def normalize_label(label: str) -> str:
    """``mlp:default`` -> ``mlp``; other labels unchanged (spaces stripped)."""
    return model_label(*split_model_ref(label.strip()))


@dataclass(frozen=True)
class SeedComparison:
    """Two runs with the same seed on the same test images."""

    seed: int
    n_test: int
    accuracy_a: Interval
    accuracy_b: Interval
    table: np.ndarray
    p_value: float
    difference: Interval

    @property
    def only_a(self) -> int:
        """Images model A got right and model B got wrong."""
        return int(self.table[0, 1])

    @property
    def only_b(self) -> int:
        """Images model B got right and model A got wrong."""
        return int(self.table[1, 0])


@dataclass(frozen=True)
class PairComparison:
    """Everything ``bench compare`` prints and the pairwise table summarizes."""

    dataset: str
    label_a: str
    label_b: str
    seeds: list[SeedComparison]
    difference: Interval

    @property
    def max_p(self) -> float:
        """The largest per-seed McNemar p-value."""
        return max(s.p_value for s in self.seeds)

    @property
    def min_p(self) -> float:
        """The smallest per-seed McNemar p-value."""
        return min(s.p_value for s in self.seeds)

    @property
    def direction(self) -> int:
        """+1 if A beat B on every seed, -1 if B beat A on every seed, 0 otherwise."""
        signs = {int(np.sign(s.difference.estimate)) for s in self.seeds}
        return signs.pop() if len(signs) == 1 else 0

    @property
    def leader(self) -> str | None:
        """The model ahead on average when the difference's interval excludes 0, else None."""
        if self.difference.low > 0:
            return self.label_a
        if self.difference.high < 0:
            return self.label_b
        return None

    def winner(self, p_value: float | None = None, alpha: float = ALPHA) -> str | None:
        """The better model's label if ``p_value`` (default: :attr:`max_p`) is below ``alpha``
        and it won on every seed; else None."""
        p = self.max_p if p_value is None else p_value
        if p >= alpha or self.direction == 0:
            return None
        return self.label_a if self.direction > 0 else self.label_b


def runs_by_seed(records: Iterable[dict[str, Any]], label: str, dataset: str) -> dict[int, dict]:
    """The ok records of ``label`` on ``dataset``, keyed by seed."""
    wanted = normalize_label(label)
    return {
        r["seed"]: r
        for r in records
        if r["status"] == "ok" and r["dataset"] == dataset and label_of(r) == wanted
    }


def compare_runs(seed: int, record_a: dict[str, Any], record_b: dict[str, Any]) -> SeedComparison:
    """Compare two ok records of the same seed; raise :class:`NotComparable` if their test
    labels differ."""
    labels = np.asarray(record_a["test_labels"])
    if not np.array_equal(labels, np.asarray(record_b["test_labels"])):
        raise NotComparable(
            f"seed {seed}: {label_of(record_a)} and {label_of(record_b)} were tested on "
            f"different test sets ({len(labels):,} vs {len(record_b['test_labels']):,} labels, "
            "or a different order); rerun them with the same --limit-test"
        )
    pred_a = np.asarray(record_a["predictions"])
    pred_b = np.asarray(record_b["predictions"])
    table = contingency_table(labels, pred_a, pred_b)
    n = len(labels)
    return SeedComparison(
        seed=seed,
        n_test=n,
        accuracy_a=wilson_interval(int(table[0].sum()), n),
        accuracy_b=wilson_interval(int(table[:, 0].sum()), n),
        table=table,
        p_value=mcnemar_exact_p(table),
        difference=paired_bootstrap_difference(pred_a == labels, pred_b == labels),
    )


def compare_models(
    records: Iterable[dict[str, Any]], label_a: str, label_b: str, dataset: str
) -> PairComparison:
    """Pair the ok runs of two models by seed and compare them; see the module docstring.

    Raises :class:`NotComparable` when either model has no ok run on ``dataset``, when they
    share no seed, or when a shared seed's test sets differ.
    """
    records = list(records)
    label_a, label_b = normalize_label(label_a), normalize_label(label_b)
    if label_a == label_b:
        raise NotComparable(f"cannot compare {label_a} with itself; name two different models")
    runs_a = runs_by_seed(records, label_a, dataset)
    runs_b = runs_by_seed(records, label_b, dataset)
    for label, runs in ((label_a, runs_a), (label_b, runs_b)):
        if not runs:
            present = sorted(
                {label_of(r) for r in records if r["dataset"] == dataset and r["status"] == "ok"}
            )
            raise NotComparable(
                f"no successful run of {label} on {dataset}; models with runs there: "
                f"{', '.join(present) or 'none'}"
            )
    common = sorted(set(runs_a) & set(runs_b))
    if not common:
        raise NotComparable(
            f"{label_a} and {label_b} share no seed on {dataset} ({label_a}: seeds "
            f"{_seeds(runs_a)}; {label_b}: seeds {_seeds(runs_b)}), so no paired test is "
            "possible. Run both with the same seeds, e.g. 'python -m bench run --model "
            f"{label_a},{label_b} --dataset {dataset} --repeats 3 --resume'"
        )
    seeds = [compare_runs(seed, runs_a[seed], runs_b[seed]) for seed in common]
    labels = np.asarray(runs_a[common[0]]["test_labels"])
    if any(not np.array_equal(runs_a[s]["test_labels"], labels) for s in common):
        raise NotComparable(
            f"{label_a}'s runs on {dataset} used different test sets across seeds; "
            "rerun them with the same --limit-test"
        )
    right_a = np.stack([np.asarray(runs_a[s]["predictions"]) == labels for s in common])
    right_b = np.stack([np.asarray(runs_b[s]["predictions"]) == labels for s in common])
    return PairComparison(
        dataset=dataset,
        label_a=label_a,
        label_b=label_b,
        seeds=seeds,
        difference=paired_bootstrap_difference(right_a, right_b),
    )


def verdict(pair: PairComparison, alpha: float = ALPHA) -> str:
    """One plain-words sentence on which model is more accurate, and how sure that is."""
    diff = pair.difference
    k = len(pair.seeds)
    size = (
        f"accuracy {pair.label_a} - {pair.label_b} = {_points(diff.estimate)} points "
        f"(95% CI {_points(diff.low)} to {_points(diff.high)})"
    )
    winner = pair.winner(alpha=alpha)
    if winner is not None:
        loser = pair.label_b if winner == pair.label_a else pair.label_a
        on_seeds = "on the one seed" if k == 1 else f"on every one of the {k} seeds"
        return (
            f"{winner} is more accurate than {loser} on {pair.dataset}: {size}; the difference "
            f"is significant {on_seeds} (McNemar exact p <= {_p(pair.max_p)})."
        )
    significant = sum(s.p_value < alpha for s in pair.seeds)
    if significant and not pair.direction:
        return (
            f"No clear winner between {pair.label_a} and {pair.label_b} on {pair.dataset}: "
            f"{size}; the better model changes with the seed."
        )
    p_range = _p(pair.max_p) if k == 1 else f"from {_p(pair.min_p)} to {_p(pair.max_p)}"
    if significant:
        text = (
            f"No firm verdict between {pair.label_a} and {pair.label_b} on {pair.dataset}: "
            f"significant on {significant} of {k} seeds only; {size}; McNemar exact p {p_range}."
        )
    else:
        text = (
            f"No significant difference between {pair.label_a} and {pair.label_b} on "
            f"{pair.dataset}: {size}; McNemar exact p {'= ' if k == 1 else ''}{p_range}."
        )
    if pair.leader is None:
        return text + " Treat them as tied."
    return (
        text + f" Averaged over the seeds {pair.leader} is ahead (the interval excludes 0), "
        "but not on every seed: more seeds would tell whether it holds."
    )


def short_verdict(pair: PairComparison, p_value: float, alpha: float = ALPHA) -> str:
    """The pairwise table's verdict for ``p_value`` (the pair's p after a correction)."""
    winner = pair.winner(p_value=p_value, alpha=alpha)
    if winner is not None:
        return f"**{winner}** better"
    if p_value < alpha:
        return "mixed: the better model changes with the seed"
    if pair.leader is not None:
        return f"{pair.leader} ahead on average (CI excludes 0), not significant"
    return "no significant difference"


def _seeds(runs: dict[int, dict]) -> str:
    return ", ".join(str(s) for s in sorted(runs))


def _points(fraction: float) -> str:
    return f"{100 * fraction:+.2f}"


def _p(value: float) -> str:
    return format_p_value(value)


@dataclass(frozen=True)
class PairwiseTable:
    """Every comparable pair of models on one dataset, with Holm-adjusted p-values."""

    pairs: list[PairComparison]
    holm_p: list[float]
    not_comparable: list[str]


def compare_all(records: Iterable[dict[str, Any]], dataset: str, order: list[str]) -> PairwiseTable:
    """Compare each pair of ``order`` (labels, best first) on ``dataset``; Holm over all pairs.

    The family for the Holm correction is every pair in the table; each pair's p-value is its
    largest per-seed McNemar p-value.
    """
    from bench.results.stats import holm_adjust

    records = list(records)
    pairs, skipped = [], []
    for i, label_a in enumerate(order):
        for label_b in order[i + 1 :]:
            try:
                pairs.append(compare_models(records, label_a, label_b, dataset))
            except NotComparable as reason:
                skipped.append(f"{label_a} vs {label_b}: {reason}")
    return PairwiseTable(pairs, holm_adjust([p.max_p for p in pairs]), skipped)
