"""Is model A more accurate than model B? Paired comparisons from stored test predictions.

Two models are compared on one dataset when their runs were tested on the same labels in the
same order (so the same images). The test that decides is seed-level: a two-level bootstrap
that resamples each model's seeds and then the test images, giving an interval of the
accuracy difference and a p-value that count both sources of chance (which seed, which
images). A "better" verdict needs the p-value below ``ALPHA`` after Holm's correction over
every test on the page, and at least ``MIN_SEEDS`` seeds of each model (one run of
a model that gives the same predictions for every seed). McNemar's exact test on each common
seed is kept as detail: it says whether one run beat another on these images, not whether the
model does.

A leaderboard compares each model with the best one and with its neighbour in rank
(:func:`ranked_pairs`), so the number of tests grows with the number of models, not its square.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.core.errors import BenchError
from bench.core.spec import model_label, split_model_ref
from bench.results.stats.intervals import (
    ALPHA,
    MIN_SEEDS,
    DifferenceTest,
    Interval,
    contingency_table,
    format_p_value,
    mcnemar_exact_p,
    paired_bootstrap_difference,
    seeds_needed,
    two_level_bootstrap_difference,
    wilson_interval,
)
from bench.results.store.record import RunRecord


class NotComparable(BenchError):
    """Two models have no runs that can be paired (no runs, or different test sets)."""


def normalize_label(label: str) -> str:
    """``mlp:default`` -> ``mlp``; other labels unchanged (spaces stripped)."""
    return model_label(*split_model_ref(label.strip()))


@dataclass(frozen=True)
class SeedComparison:
    """Two runs with the same seed on the same test images: McNemar and a paired bootstrap."""

    seed: int
    n_test: int
    accuracy_a: Interval
    accuracy_b: Interval
    table: np.ndarray
    p_value: float
    difference: Interval | None

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
    """A seed-level comparison of two models on one dataset, with per-seed detail."""

    dataset: str
    label_a: str
    label_b: str
    n_test: int
    seeds_a: list[int]
    seeds_b: list[int]
    deterministic_a: bool
    deterministic_b: bool
    test: DifferenceTest
    per_seed: list[SeedComparison]

    @property
    def difference(self) -> Interval:
        """Accuracy A - B (a fraction) with its seed-level 95% interval."""
        return self.test.interval

    @property
    def p_value(self) -> float:
        """Two-sided p-value of the seed-level test (before any correction)."""
        return self.test.p_value

    def seeds_missing(self, minimum: int = MIN_SEEDS) -> dict[str, int]:
        """Per model label, how many more seeds a verdict needs (models with enough left out).

        A model whose predictions do not depend on the seed needs one run only.
        """
        more_a, more_b = seeds_needed(
            len(self.seeds_a),
            len(self.seeds_b),
            minimum,
            deterministic_a=self.deterministic_a,
            deterministic_b=self.deterministic_b,
        )
        return {label: n for label, n in ((self.label_a, more_a), (self.label_b, more_b)) if n}

    def ahead(self) -> str | None:
        """The label with the higher mean accuracy (None on an exact tie)."""
        if self.difference.estimate > 0:
            return self.label_a
        if self.difference.estimate < 0:
            return self.label_b
        return None

    def winner(self, p_value: float | None = None, alpha: float = ALPHA) -> str | None:
        """The better model when ``p_value`` (default: the uncorrected one) is below ``alpha``,
        the interval excludes 0 and both models have enough seeds; else None."""
        p = self.p_value if p_value is None else p_value
        excludes_zero = self.difference.low > 0 or self.difference.high < 0
        if p >= alpha or not excludes_zero or self.seeds_missing():
            return None
        return self.ahead()


class Answers:
    """Each record's test labels and predictions as NumPy arrays, converted once.

    Records hold plain lists; a page of tests reads every run many times, so the arrays are
    kept here (with the record, so its ``id`` stays valid) for as long as this object lives.
    """

    def __init__(self) -> None:
        self._arrays: dict[int, tuple[RunRecord, np.ndarray, np.ndarray, int]] = {}

    def _get(self, run: RunRecord) -> tuple[RunRecord, np.ndarray, np.ndarray, int]:
        entry = self._arrays.get(id(run))
        if entry is None:
            labels = np.asarray(run.test_labels, dtype=np.int64)
            predictions = np.asarray(run.predictions, dtype=np.int64)
            entry = (run, labels, predictions, hash(labels.tobytes()))
            self._arrays[id(run)] = entry
        return entry

    def labels(self, run: RunRecord) -> np.ndarray:
        """The run's test labels."""
        return self._get(run)[1]

    def predictions(self, run: RunRecord) -> np.ndarray:
        """The run's test predictions."""
        return self._get(run)[2]

    def same_images(self, run: RunRecord, other: RunRecord) -> bool:
        """True when both runs were tested on the same labels in the same order."""
        a, b = self._get(run), self._get(other)
        return a[3] == b[3] and np.array_equal(a[1], b[1])


def correctness(
    runs: Sequence[RunRecord], answers: Answers | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, right)``: the shared test labels and a ``(runs, images)`` boolean array.

    Raises :class:`NotComparable` when the runs were tested on different labels.
    """
    answers = answers or Answers()
    first = runs[0]
    labels = answers.labels(first)
    for run in runs[1:]:
        if not answers.same_images(first, run):
            raise NotComparable(
                f"{run.label} seed {run.seed} on {run.dataset} was tested on other images "
                f"({len(run.test_labels):,} labels vs {len(labels):,}, or another order); "
                "rerun it with the same --limit-test"
            )
    return labels, np.stack([answers.predictions(run) == labels for run in runs])


def compare_runs(
    a: RunRecord, b: RunRecord, bootstrap: bool = True, answers: Answers | None = None
) -> SeedComparison:
    """McNemar's exact test and (unless ``bootstrap`` is False) a paired bootstrap interval of
    the difference, for two ok runs of the same seed."""
    answers = answers or Answers()
    labels, right = correctness([a, b], answers)
    table = contingency_table(labels, answers.predictions(a), answers.predictions(b))
    n = len(labels)
    return SeedComparison(
        seed=a.seed,
        n_test=n,
        accuracy_a=wilson_interval(int(right[0].sum()), n),
        accuracy_b=wilson_interval(int(right[1].sum()), n),
        table=table,
        p_value=mcnemar_exact_p(table),
        difference=paired_bootstrap_difference(right[0], right[1]) if bootstrap else None,
    )


def runs_of(records: Iterable[RunRecord], label: str, dataset: str) -> list[RunRecord]:
    """The ok records of ``label`` on ``dataset``, by seed."""
    wanted = normalize_label(label)
    runs = [r for r in records if r.ok and r.dataset == dataset and r.label == wanted]
    return sorted(runs, key=lambda r: r.seed)


def compare_models(
    records: Iterable[RunRecord],
    label_a: str,
    label_b: str,
    dataset: str,
    per_seed_bootstrap: bool = True,
    answers: Answers | None = None,
) -> PairComparison:
    """Compare two models on ``dataset`` over all their ok runs; see the module docstring.

    ``per_seed_bootstrap=False`` leaves out the per-seed bootstrap intervals (tables that show
    only the per-seed McNemar test need not pay for them); ``answers`` shares converted
    arrays between many comparisons. Raises :class:`NotComparable` when either model has no
    ok run there or their test sets differ.
    """
    records = list(records)
    label_a, label_b = normalize_label(label_a), normalize_label(label_b)
    if label_a == label_b:
        raise NotComparable(f"cannot compare {label_a} with itself; name two different models")
    runs_a, runs_b = runs_of(records, label_a, dataset), runs_of(records, label_b, dataset)
    for label, runs in ((label_a, runs_a), (label_b, runs_b)):
        if not runs:
            present = sorted({r.label for r in records if r.ok and r.dataset == dataset})
            raise NotComparable(
                f"no successful run of {label} on {dataset}; models with runs there: "
                f"{', '.join(present) or 'none'}"
            )
    answers = answers or Answers()
    _, right = correctness(runs_a + runs_b, answers)
    by_seed_b = {r.seed: r for r in runs_b}
    per_seed = [
        compare_runs(a, by_seed_b[a.seed], per_seed_bootstrap, answers)
        for a in runs_a
        if a.seed in by_seed_b
    ]
    return PairComparison(
        dataset=dataset,
        label_a=label_a,
        label_b=label_b,
        n_test=right.shape[1],
        seeds_a=[r.seed for r in runs_a],
        seeds_b=[r.seed for r in runs_b],
        deterministic_a=_deterministic(runs_a),
        deterministic_b=_deterministic(runs_b),
        test=two_level_bootstrap_difference(right[: len(runs_a)], right[len(runs_a) :]),
        per_seed=per_seed,
    )


def ranked_pairs(order: Sequence[str]) -> list[tuple[str, str, str]]:
    """The tests a leaderboard runs, for labels ``order`` (best first): ``(a, b, why)``.

    Every model ``b`` against the best (``why = "the best"``) and against the model ranked
    just above it (``"the next above"``); the runner-up meets the best once
    (``"the best (next above)"``).
    """
    pairs = []
    for rank in range(1, len(order)):
        model, above = order[rank], order[rank - 1]
        if rank == 1:
            pairs.append((above, model, "the best (next above)"))
        else:
            pairs.append((order[0], model, "the best"))
            pairs.append((above, model, "the next above"))
    return pairs


def verdict_words(pair: PairComparison, p_adjusted: float, alpha: float = ALPHA) -> str:
    """The pairwise table's verdict for ``p_adjusted`` (the pair's p-value after Holm)."""
    winner = pair.winner(p_value=p_adjusted, alpha=alpha)
    if winner is not None:
        return f"**{winner}** better"
    excludes_zero = pair.difference.low > 0 or pair.difference.high < 0
    if p_adjusted < alpha and excludes_zero:
        return f"{pair.ahead()} ahead; " + needs_more_seeds(pair)
    return "no significant difference"


def needs_more_seeds(pair: PairComparison) -> str:
    """``needs 2 more seeds of mlp and 1 more seed of logreg`` (empty when none are missing)."""
    missing = pair.seeds_missing()
    parts = [f"{n} more seed{'s' if n > 1 else ''} of {label}" for label, n in missing.items()]
    return "needs " + " and ".join(parts) if parts else ""


def verdict(pair: PairComparison, alpha: float = ALPHA) -> str:
    """One plain-words sentence for a single comparison (``bench compare``), no correction."""
    diff = pair.difference
    size = (
        f"accuracy {pair.label_a} - {pair.label_b} = {_points(diff.estimate)} points "
        f"(95% CI {_points(diff.low)} to {_points(diff.high)}, "
        f"{len(pair.seeds_a)} vs {len(pair.seeds_b)} seed(s))"
    )
    p = format_p_value(pair.p_value)
    winner = pair.winner(alpha=alpha)
    if winner is not None:
        loser = pair.label_b if winner == pair.label_a else pair.label_a
        return f"{winner} is more accurate than {loser} on {pair.dataset}: {size}; p = {p}."
    excludes_zero = diff.low > 0 or diff.high < 0
    if pair.p_value < alpha and excludes_zero:
        return (
            f"{pair.ahead()} is ahead on {pair.dataset}: {size}; p = {p}, but the verdict "
            f"{needs_more_seeds(pair)} (at least {MIN_SEEDS} per model)."
        )
    return (
        f"No significant difference between {pair.label_a} and {pair.label_b} on "
        f"{pair.dataset}: {size}; p = {p}."
    )


def _deterministic(runs: Sequence[RunRecord]) -> bool:
    """True when the model's predictions do not depend on the seed: its registration says so,
    or several runs made exactly the same predictions."""
    if runs and all(bool(r.model_info.get("deterministic")) for r in runs):
        return True
    return len(runs) > 1 and all(r.predictions == runs[0].predictions for r in runs[1:])


def _points(fraction: float) -> str:
    return f"{100 * fraction:+.2f}"
