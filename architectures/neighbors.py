"""Nearest-neighbour classifiers on raw pixels (scikit-learn)."""

from __future__ import annotations

from typing import Any

from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model
from bench.models.space import Choice, IntRange
from bench.models.spec import PublishedReference

# Each corrupted test set is scored on a fixed, stratified 2,000 of its 10,000 images: all of
# them would cost this model minutes per run.
ROBUSTNESS_SUBSET = 2000


@register_model(
    family="sklearn",
    preprocess=flatten_and_scale,
    config={"n_neighbors": 3, "weights": "uniform"},
    reference=PublishedReference(
        source=(
            "LeCun, Bottou, Bengio, Haffner 1998, Gradient-based learning applied to "
            "document recognition (Proc. IEEE), comparison table"
        ),
        test_error_pct=5.0,
        conditions=(
            "K-NN, Euclidean distance, raw pixels, 60,000 training images; a later tuned "
            "L2 K-NN on the MNIST page's table: 3.09%"
        ),
    ),
    deterministic=True,
    robustness_subset=ROBUSTNESS_SUBSET,
    tuning=(
        "k=3 fixed, not tuned; on a 5,000-image validation split of the training set "
        "k=1/3/5 gave 97.60/97.48/97.24%"
    ),
    space={"n_neighbors": IntRange(1, 10), "weights": Choice(("uniform", "distance"))},
)
def knn(config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Any:
    """k-nearest neighbours (k=3), Euclidean distance on pixels / 255, majority vote.

    Brute-force search: every test image is compared with every training image through
    blocked matrix products on all cores (scikit-learn picks the same for 784 dimensions; a
    tree index does not help in so many dimensions). ``predict_proba`` is the share of the
    k neighbours in each class, so with k=3 it takes the values 0, 1/3, 2/3 and 1.
    """
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(
        n_neighbors=int(config["n_neighbors"]),
        weights=config["weights"],
        metric="euclidean",
        algorithm="brute",
        n_jobs=-1,
    )
