"""Reliability diagram drawn from real probabilities (two scikit-learn models on digits)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib import image as mpimg
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from bench.core.errors import BenchError
from bench.measure.calibration import reliability_bins
from bench.results.report.calibration_figures import reliability_diagram


@pytest.fixture(scope="module")
def curves():
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:1000], order[1000:]
    result = {}
    for label, model in (
        ("logreg", LogisticRegression(C=100, max_iter=3000)),
        ("gaussian_nb", GaussianNB()),
    ):
        model.fit(x[train] / 16, y[train])
        result[label] = reliability_bins(model.predict_proba(x[test] / 16), y[test])
    return result


def test_diagram_draws_every_model_bin_and_the_diagonal(curves):
    fig = reliability_diagram(curves, title="digits")
    top, bottom = fig.axes
    diagonal = top.lines[0]
    assert diagonal.get_xydata().tolist() == [[0, 0], [1, 1]]
    for label, line, points in zip(curves, top.lines[1:], top.collections, strict=True):
        bins = curves[label]
        full = bins.counts > 0
        np.testing.assert_allclose(line.get_xdata(), bins.confidence[full])
        np.testing.assert_allclose(line.get_ydata(), bins.accuracy[full])
        np.testing.assert_allclose(points.get_offsets(), line.get_xydata())
        # the fullest bin draws the largest marker
        assert np.argmax(points.get_sizes()) == np.argmax(bins.counts[full])
    texts = [t.get_text() for t in top.get_legend().get_texts()]
    assert texts[1] == f"logreg: ECE {curves['logreg'].ece:.3f} (797 images)"
    assert texts[2].startswith("gaussian_nb: ECE 0.1")
    shares = [100 * curves["logreg"].counts[curves["logreg"].counts > 0] / 797]
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), shares[0])
    assert bottom.get_yscale() == "log"
    assert "digits" in top.get_title()


def test_diagram_renders_to_a_png(curves):
    buffer = io.BytesIO()
    reliability_diagram(curves).savefig(buffer, format="png", dpi=60)
    buffer.seek(0)
    pixels = mpimg.imread(buffer, format="png")
    assert pixels.shape[0] > 300 and pixels.shape[1] > 400
    assert (pixels[..., :3] < 0.9).any(), "something is drawn"


def test_no_curves_is_refused():
    with pytest.raises(BenchError, match="at least one model"):
        reliability_diagram({})
