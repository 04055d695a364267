"""Corruption-robustness summaries from per-corruption error rates (pure functions).

Corruption error (Hendrycks and Dietterich 2019, ImageNet-C), with one severity per corruption
as in MNIST-C: ``CE_c = E_c(model) / E_c(baseline)`` and ``mCE`` is the mean of ``CE_c`` over
the corruptions. Below 1 means fewer errors than the baseline under corruption. The relative
variant, ``(E_c - E_clean)`` over the same for the baseline, measures only the drop caused by
the corruption. Errors and accuracies are fractions in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from bench.core.errors import BenchError

# The reference every model's corruption error is divided by, as AlexNet is for ImageNet-C:
# the article's CNN at its default preset (mean error over its seeds, same dataset).
DEFAULT_BASELINE = "article_cnn"


def relative_corruption_error(
    model_errors: Mapping[str, float], baseline_errors: Mapping[str, float]
) -> tuple[dict[str, float], float]:
    """Per-corruption ``CE_c = model_errors[c] / baseline_errors[c]`` and their mean (mCE).

    The corruptions are those of ``model_errors`` (in its order); each must have a baseline
    error above 0. Example::

        >>> relative_corruption_error({"fog": 0.1, "zigzag": 0.4}, {"fog": 0.2, "zigzag": 0.2})
        ({'fog': 0.5, 'zigzag': 2.0}, 1.25)
    """
    _check_fractions(model_errors, "model error")
    _check_fractions(baseline_errors, "baseline error")
    _check_covered(model_errors, baseline_errors)
    zero = [name for name in model_errors if baseline_errors[name] == 0]
    if zero:
        raise BenchError(
            f"the baseline makes no errors on {', '.join(zero)}, so the corruption error "
            "(model error / baseline error) is undefined there. Use a baseline that errs on "
            "every corruption, or leave those corruptions out of the mCE."
        )
    per = {name: model_errors[name] / baseline_errors[name] for name in model_errors}
    return per, math.fsum(per.values()) / len(per)


def relative_mce(
    model_errors: Mapping[str, float],
    model_clean_error: float,
    baseline_errors: Mapping[str, float],
    baseline_clean_error: float,
) -> tuple[dict[str, float], float]:
    """Relative corruption error per corruption, ``(E_c - E_clean) / (E_c^base - E_clean^base)``,
    and its mean (Hendrycks and Dietterich's relative mCE)."""
    _check_fractions(model_errors, "model error")
    _check_fractions(baseline_errors, "baseline error")
    _check_fractions({"clean": model_clean_error}, "model error")
    _check_fractions({"clean": baseline_clean_error}, "baseline error")
    _check_covered(model_errors, baseline_errors)
    flat = [name for name in model_errors if baseline_errors[name] == baseline_clean_error]
    if flat:
        raise BenchError(
            f"the baseline's error on {', '.join(flat)} equals its clean error, so the relative "
            "corruption error is undefined there. Leave those corruptions out or use mCE."
        )
    per = {
        name: (model_errors[name] - model_clean_error)
        / (baseline_errors[name] - baseline_clean_error)
        for name in model_errors
    }
    return per, math.fsum(per.values()) / len(per)


MIN_BASELINE_RISE = 0.05
"""A corruption counts in the relative mCE only when the baseline's error rises at least this
much (5 points) above its clean error: a smaller rise as denominator would let one corruption
where the baseline barely suffers decide the mean (a 3-point rise turns a model's 27-point
rise into a relative CE of 9)."""


def relative_mce_corruptions(
    baseline_errors: Mapping[str, float],
    baseline_clean_error: float,
    min_rise: float = MIN_BASELINE_RISE,
) -> tuple[list[str], list[str]]:
    """``(kept, left_out)``: the corruptions whose baseline error rises at least ``min_rise``
    above the baseline's clean error, and the others.

    Example
    -------
    >>> relative_mce_corruptions({"fog": 0.40, "glass_blur": 0.10}, 0.07)
    (['fog'], ['glass_blur'])
    """
    kept = [c for c, e in baseline_errors.items() if e - baseline_clean_error >= min_rise]
    return kept, [c for c in baseline_errors if c not in kept]


def mean_corruption_accuracy(accuracies: Mapping[str, float]) -> float:
    """The mean accuracy over the corruptions (every corruption weighs the same)."""
    _check_fractions(accuracies, "accuracy")
    return math.fsum(accuracies.values()) / len(accuracies)


def _check_fractions(values: Mapping[str, float], what: str) -> None:
    if not values:
        raise BenchError(f"no corruptions given: need one {what} per corruption")
    bad = {
        name: value
        for name, value in values.items()
        if not isinstance(value, (int, float)) or not 0 <= value <= 1 or math.isnan(value)
    }
    if bad:
        shown = ", ".join(f"{name}={value!r}" for name, value in bad.items())
        raise BenchError(f"each {what} must be a fraction in [0, 1]; got {shown}")


def _check_covered(model: Mapping[str, float], baseline: Mapping[str, float]) -> None:
    missing = [name for name in model if name not in baseline]
    if missing:
        raise BenchError(
            f"the baseline has no error for {', '.join(missing)}; evaluate the baseline on the "
            "same corruptions (and dataset) as the model"
        )
