"""Coverage of the two-level bootstrap's 95% interval by number of seeds (docs/statistics.md).

Not a test (pytest does not collect it): a simulation that takes about 20 seconds. Each of 400
experiments draws new test images (a difficulty shared by both models) and new training runs
(a random effect per run on the logit scale), then checks whether the interval holds the true
difference of expected accuracies.

    PYTHONPATH=. python tests/simulations/coverage_by_seeds.py
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from bench.results.stats.intervals import two_level_bootstrap_difference

ALPHA_A, ALPHA_B, BETA = 3.0, 2.7, 1.5  # about 93% and 91% accuracy
N_IMAGES, EXPERIMENTS, RESAMPLES = 1000, 400, 1000


def coverage(seed_sd: float, seeds: int) -> tuple[float, float]:
    """Share of experiments whose interval holds the truth; mean width / true 95% width."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal(1_000_000)
    truth = np.mean(
        expit(ALPHA_A + BETA * z + seed_sd * rng.standard_normal(len(z)))
        - expit(ALPHA_B + BETA * z + seed_sd * rng.standard_normal(len(z)))
    )
    estimates, covered, widths = [], [], []
    for experiment in range(EXPERIMENTS):
        difficulty = rng.standard_normal(N_IMAGES)
        runs = [
            rng.random((seeds, N_IMAGES))
            < expit(alpha + BETA * difficulty + seed_sd * rng.standard_normal((seeds, 1)))
            for alpha in (ALPHA_A, ALPHA_B)
        ]
        test = two_level_bootstrap_difference(*runs, resamples=RESAMPLES, seed=experiment)
        estimates.append(test.estimate)
        covered.append(test.low <= truth <= test.high)
        widths.append(test.high - test.low)
    true_width = 2 * 1.959964 * np.std(estimates, ddof=1)
    return float(np.mean(covered)), float(np.mean(widths) / true_width)


if __name__ == "__main__":
    for seed_sd in (0.0, 0.4):
        for seeds in (2, 3, 5, 10):
            share, ratio = coverage(seed_sd, seeds)
            print(
                f"seed effect sd {seed_sd}, {seeds:2d} seeds: coverage {share:.3f}, "
                f"width / true width {ratio:.2f}",
                flush=True,
            )
