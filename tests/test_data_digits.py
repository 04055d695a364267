"""scikit-learn's digits, registered as the dataset ``digits``."""

from __future__ import annotations

import numpy as np

from bench.data import load_dataset, verify_dataset
from bench.data.digits import DIGITS_CHECKSUMS


def test_digits_shapes_split_and_scaling():
    digits = load_dataset("digits")
    assert digits.source == "sklearn"
    assert digits.cache_path is None
    assert digits.x_train.shape == (1347, 8, 8)
    assert digits.x_test.shape == (450, 8, 8)
    assert digits.y_train.shape == (1347,)
    assert digits.x_train.dtype == digits.y_train.dtype == np.uint8
    assert int(digits.x_train.max()) == 255
    assert set(np.unique(digits.x_train).tolist()) <= {round(v * 255 / 16) for v in range(17)}
    assert np.bincount(digits.y_train).tolist() == [
        133,
        136,
        133,
        137,
        136,
        136,
        136,
        134,
        131,
        135,
    ]
    assert np.bincount(digits.y_test).tolist() == [45, 46, 44, 46, 45, 46, 45, 45, 43, 45]
    assert digits.class_names == tuple("0123456789")
    assert digits.image_shape == (8, 8)
    assert digits.checksums == DIGITS_CHECKSUMS


def test_digits_split_is_fixed():
    first, second = load_dataset("digits"), load_dataset("digits")
    np.testing.assert_array_equal(first.x_test, second.x_test)
    np.testing.assert_array_equal(first.y_train, second.y_train)


def test_digits_verify():
    checks = verify_dataset("digits")
    assert [check.ok for check in checks] == [True, True]
