"""Null experiments for the pairwise test: two identical models, seeds x test images.

Used by ``tests/test_stats_crossed.py`` (the CI check of the false-better rate) and, run as a
script, by docs/statistics.md's table (old two-level bootstrap against the t-test):

    PYTHONPATH=$PWD python tests/simulations/null_crossed.py 2000 400

Each experiment draws a test set of ``n`` images: ``hard`` of them have an error rate drawn
from Beta(1, 2) (mean 1/3), the others are right for every run, so the mean accuracy is
``1 - hard / (3 n)`` (99% for the defaults). Both models share the images' difficulty (the
null: the same model twice). Each training seed shifts the success rate of the hard images
by a normal draw scaled so the seed's accuracy moves with sd ``seed_sd`` (a fraction).
Answers are stored compactly: the hard columns and one all-right column weighted by the
number of easy images.
"""

from __future__ import annotations

import sys

import numpy as np


def null_experiments(
    rng: np.random.Generator,
    experiments: int,
    seed_sd: float,
    seeds: int = 5,
    n: int = 10_000,
    hard: int = 300,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(correct_a, correct_b, weights)``: ``(E, seeds, hard + 1)`` answers and weights."""
    success = 1 - rng.beta(1.0, 2.0, size=(experiments, 1, hard))
    shift_sd = seed_sd * n / hard

    def model() -> np.ndarray:
        shift = rng.normal(0.0, shift_sd, size=(experiments, seeds, 1)) if shift_sd else 0.0
        p = np.clip(success + shift, 0.0, 1.0)
        answers = rng.random((experiments, seeds, hard)) < p
        easy = np.ones((experiments, seeds, 1), dtype=bool)
        return np.concatenate([answers, easy], axis=-1)

    weights = np.concatenate([np.ones(hard), [n - hard]])
    return model(), model(), weights


def t_test_rates(correct_a, correct_b, weights, alphas) -> list[float]:
    """Share of experiments the crossed t-test calls significant, per alpha."""
    from bench.results.stats.crossed import crossed_moments, two_sided_p

    m = crossed_moments(correct_a, correct_b, weights)
    p = two_sided_p(m.estimate, m.standard_error, m.df)
    return [float(np.mean(p < alpha)) for alpha in alphas]


def bootstrap_rates(correct_a, correct_b, weights, alphas, resamples=10_000) -> list[float]:
    """The same for the old two-level bootstrap (slow: one experiment at a time)."""
    from bench.results.stats.intervals import two_level_bootstrap_difference

    counts = weights.astype(int)
    p = []
    for a, b in zip(correct_a, correct_b, strict=True):
        full_a, full_b = np.repeat(a, counts, axis=1), np.repeat(b, counts, axis=1)
        p.append(two_level_bootstrap_difference(full_a, full_b, resamples=resamples).p_value)
    p = np.asarray(p)
    return [float(np.mean(p < alpha)) for alpha in alphas]


if __name__ == "__main__":
    t_experiments = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    boot_experiments = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    alphas = (0.05, 0.01, 0.005, 0.003)
    print("seed sd (points) | method | experiments | " + " | ".join(f"a={a}" for a in alphas))
    for sd_points in (0.0, 0.05, 0.11, 0.2, 0.3):
        rng = np.random.default_rng(int(sd_points * 1000))
        a, b, w = null_experiments(rng, t_experiments, sd_points / 100)
        rates = t_test_rates(a, b, w, alphas)
        print(
            f"{sd_points} | t (Satterthwaite) | {t_experiments} | "
            + " | ".join(f"{100 * r:.2f}%" for r in rates),
            flush=True,
        )
        if boot_experiments:
            rates = bootstrap_rates(a[:boot_experiments], b[:boot_experiments], w, alphas)
            print(
                f"{sd_points} | two-level bootstrap | {boot_experiments} | "
                + " | ".join(f"{100 * r:.2f}%" for r in rates),
                flush=True,
            )
