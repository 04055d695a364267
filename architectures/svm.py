"""Support vector machines: an RBF-kernel SVM on a PCA projection of the pixels.

The exact RBF SVM on all 784 pixels does not fit the benchmark's time budget on 2 cores
(measured on 20,000 images: 36 s to fit, 14 s to predict 5,000 with 5,900 support vectors;
on 55,000 images fitting grows several-fold and the 10,000 test images would take about a
minute per prediction pass), so the model first projects the pixels onto their first 50
principal components (82% of the variance): on 55,000 images the PCA takes 9 s, the SVC
12-18 s to fit and 4.5 s to predict 10,000 images.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model
from bench.models.space import FloatRange, IntRange
from bench.models.spec import PublishedReference


class DecisionSoftmax:
    """Wraps a classifier without probabilities; ``predict_proba`` is a softmax of its scores.

    For an SVC, ``probability=True`` would instead fit Platt scaling with an internal 5-fold
    cross-validation, seeded, so not the same for every seed. Measured for ``svm_rbf_pca`` on
    55,000 images: 159 s to fit instead of 12 s and 13.1 s instead of 4.2 s to predict 10,000
    (and scikit-learn 1.9 deprecates the option).
    The softmax of the one-vs-rest scores (pairwise votes plus a tie-breaking confidence)
    costs nothing, ranks the classes as the votes do, but is not calibrated.

    A plain class, not a scikit-learn ``BaseEstimator``, so that importing this module (which
    ``bench list`` does) does not import scikit-learn.
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, x: np.ndarray, y: np.ndarray) -> DecisionSoftmax:
        """Fit the wrapped estimator in place."""
        self.estimator_ = self.estimator.fit(x, y)
        self.classes_ = self.estimator_.classes_
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """One score per class (two columns, -s and s, for a binary problem)."""
        scores = np.asarray(self.estimator_.decision_function(x), dtype=np.float64)
        return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Softmax of :meth:`decision_function`, row by row."""
        from scipy.special import softmax

        return softmax(self.decision_function(x), axis=1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The class with the highest score."""
        return self.classes_[self.decision_function(x).argmax(axis=1)]


# Each corrupted test set is scored on a fixed, stratified 2,000 of its 10,000 images: all of
# them would cost this model minutes per run.
ROBUSTNESS_SUBSET = 2000


@register_model(
    family="sklearn",
    preprocess=flatten_and_scale,
    config={"pca_components": 50, "C": 5.0, "gamma": 0.02},
    reference=PublishedReference(
        # not LeCun et al. 1998: that paper's SVMs are polynomial (1.1 / 1.0 / 0.8%); the 1.4%
        # Gaussian-kernel row is on the MNIST page's table, which names no paper for it
        source=(
            "LeCun, Cortes, Burges, The MNIST database of handwritten digits (web page), "
            "comparison table, row 'SVM, Gaussian Kernel' (no paper named)"
        ),
        test_error_pct=1.4,
        conditions=(
            "SVM with a Gaussian kernel, 60,000 training images, preprocessing not stated "
            "(ours: on the first 50 principal components)"
        ),
    ),
    deterministic=True,
    robustness_subset=ROBUSTNESS_SUBSET,
    tuning=(
        "5,000-image validation split of the training set: gamma 0.02/0.04/0.08 x C 2/5/20 "
        "on 20,000 images, then PCA 35/50/80 x gamma 0.02/0.04 (C 5) on 55,000: all "
        "98.4-98.6%; took the cheapest (50, 0.02, 5: fewest support vectors)"
    ),
    space={
        "pca_components": IntRange(20, 100),
        "C": FloatRange(0.5, 50.0, log=True),
        "gamma": FloatRange(0.005, 0.1, log=True),
    },
)
def svm_rbf_pca(config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Any:
    """RBF-kernel SVM (one-vs-one) on the first 50 principal components of pixels / 255.

    PCA uses the exact (LAPACK) solver and libsvm's SVC draws no random numbers without
    ``probability=True``, so every seed gives the same model. Probabilities are a softmax of
    the one-vs-rest decision values (see :class:`DecisionSoftmax`), not calibrated ones.
    """
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    pipeline = Pipeline(
        [
            ("pca", PCA(n_components=int(config["pca_components"]), svd_solver="full")),
            (
                "svc",
                SVC(
                    kernel="rbf",
                    C=float(config["C"]),
                    gamma=float(config["gamma"]),
                    cache_size=1000,
                ),
            ),
        ]
    )
    return DecisionSoftmax(pipeline)
