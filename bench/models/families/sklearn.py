"""The scikit-learn family: builders return an unfitted estimator with ``predict_proba``."""

from __future__ import annotations

from bench.models.family import AdapterClass, register_family


@register_family("sklearn")
def sklearn_family() -> AdapterClass:
    """scikit-learn estimators, fitted once."""
    from bench.models.families._sklearn import SklearnAdapter

    return SklearnAdapter
