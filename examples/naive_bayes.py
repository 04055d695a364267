"""An example ``--models-from`` file: Gaussian naive Bayes, declaring every field of
``register_model`` a model can declare.

    python -m bench run --models-from examples/naive_bayes.py --model naive_bayes --dataset digits

The contract suite (``tests/test_model_contract.py``) checks this file's model with the same
checks as the built-in ones: its declarations reach the registry unchanged, its range refuses
``--set var_smoothing=-1`` before training (exit 2), it trains on digits, it gives the same
predictions for every seed (as it declares), its robustness subset is the one scored, and its
fingerprint follows its code.
"""

from __future__ import annotations

from typing import Any

from bench.models.params import Param
from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model


@register_model(
    family="sklearn",
    preprocess=flatten_and_scale,
    # The share of the largest pixel variance added to every class's variances: without it,
    # pixels that are constant within a class (the border) give zero variances.
    config={"var_smoothing": Param(0.05, minimum=0.0, maximum=1.0)},
    presets={"quick": {"var_smoothing": 0.1}},
    deterministic=True,
    tuning=(
        "var_smoothing 0.05, not searched; scikit-learn's default 1e-9 gave digits test "
        "probabilities whose rows do not sum to 1"
    ),
    min_image_size=2,
    # Score a fixed, stratified 200 images of each corrupted test set (all of them where the
    # test set is no larger).
    robustness_subset=200,
)
def naive_bayes(config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Any:
    """Gaussian naive Bayes on pixels / 255: one diagonal Gaussian per class."""
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB(var_smoothing=float(config["var_smoothing"]))
