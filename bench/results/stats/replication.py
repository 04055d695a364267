"""Does our run of the tutorial reproduce its logged numbers? Sign test and TOST (pure).

The article logged one run: per epoch its validation accuracy and, at the end, its confusion
matrix. Ours are K seeds of the same recipe. Three questions, three answers:

* Per row (epoch or digit): is the article's value inside our 95% interval of the mean?
* Across rows: does ours run higher (or lower) more often than chance? The sign test counts
  the rows where ours is above the article against those below (ties left out), two-sided
  binomial at 1/2. Rows are not independent (epochs of one run), so read it as a summary.
* At the final epoch: equivalent within a margin? The article's number is one run, so the
  question is whether it looks like one more seed of ours: TOST on ``mean - article`` with
  the standard error of a new run, ``s * sqrt(1 + 1/K)``, and K - 1 degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.results.stats.crossed import (
    EQUIVALENCE_MARGIN,
    equivalence_words,
    t_quantile,
    tost_p_value,
    two_sided_p,
)


@dataclass(frozen=True)
class SignTest:
    """Rows where ours is above / below the article, ties, and the two-sided p-value."""

    above: int
    below: int
    ties: int
    p_value: float


def sign_test(differences: np.ndarray) -> SignTest:
    """Two-sided sign test of ``differences`` (ours - article; NaN rows left out).

    Example
    -------
    >>> round(sign_test(np.full(9, 0.01)).p_value, 4)
    0.0039
    """
    from scipy.stats import binomtest

    values = np.asarray(differences, dtype=np.float64)
    values = values[~np.isnan(values)]
    above, below = int(np.sum(values > 0)), int(np.sum(values < 0))
    ties = len(values) - above - below
    p = binomtest(above, above + below, 0.5).pvalue if above + below else 1.0
    return SignTest(above, below, ties, float(p))


@dataclass(frozen=True)
class Reproduction:
    """The article's value against ours as if it were one more seed: p-values and the word."""

    difference: float
    p_different: float
    p_equivalent: float
    margin: float
    words: str


def reproduction_test(
    ours: float,
    low: float,
    high: float,
    n_seeds: int,
    article: float,
    margin: float = EQUIVALENCE_MARGIN,
) -> Reproduction | None:
    """TOST and two-sided test of ``ours - article`` from our 95% t-interval over ``n_seeds``
    seeds (None with fewer than 2 seeds: no spread to judge by).

    Example
    -------
    >>> reproduction_test(0.990, 0.980, 1.000, 3, 0.950).words
    'different'
    """
    if n_seeds < 2 or any(math.isnan(v) for v in (ours, low, high)):
        return None
    df = n_seeds - 1
    standard_error_of_mean = (high - low) / 2 / float(t_quantile(0.975, df))
    one_run = standard_error_of_mean * math.sqrt(n_seeds + 1)
    difference = ours - article
    p_different = float(two_sided_p(difference, one_run, df))
    p_equivalent = float(tost_p_value(difference, one_run, df, margin))
    words = equivalence_words(p_different, p_equivalent)
    return Reproduction(difference, p_different, p_equivalent, margin, words)
