"""Linear baselines from scikit-learn."""

from __future__ import annotations

from typing import Any

from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model


@register_model(
    family="sklearn",
    preprocess=flatten_and_scale,
    config={"C": 0.1, "max_iter": 100, "tol": 1e-4},
    presets={"quick": {"max_iter": 20}},
    deterministic=True,
    tuning="library defaults with C=0.1 (not searched)",
)
def logreg(config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Any:
    """Multinomial logistic regression (L-BFGS) on the flattened, scaled pixels."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=config["C"], max_iter=config["max_iter"], tol=config["tol"])
