"""scikit-learn's digits: 1,797 8x8 images of handwritten digits (the UCI optical digits test set).

The pixels (0..16) are scaled to uint8 0..255 as ``round(value * 255 / 16)``, then split once,
stratified by class: 75% train, 25% test, ``random_state=0``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.data.dataset import Dataset
from bench.data.idx import IdxError, check_array, with_fix
from bench.data.registry import DatasetEntry, register
from bench.data.spec import FileCheck

# SHA-256 of the IDX encoding of all 1,797 images (after scaling) and of their labels.
DIGITS_CHECKSUMS = {
    "digits-images-idx3-ubyte": "d224a90b51e21e5d1332d34effc46c3a7d6244906f07c292c24213770d11ca7b",
    "digits-labels-idx1-ubyte": "ce71631c1f31ce56fa54f31d1d498fafacff59b001e6c30c4a5e29508aa277ad",
}
N_IMAGES = 1797
TEST_SIZE = 0.25
SPLIT_SEED = 0
SKLEARN_FIX = "reinstall scikit-learn (pip install --force-reinstall scikit-learn)"


def _sklearn_arrays() -> dict[str, np.ndarray]:
    """Return scikit-learn's digits as uint8 arrays keyed by their IDX file name."""
    from sklearn.datasets import load_digits  # imported late: scikit-learn is slow to import

    raw = load_digits()
    return {
        "digits-images-idx3-ubyte": np.rint(raw.images * 255 / 16).astype(np.uint8),
        "digits-labels-idx1-ubyte": raw.target.astype(np.uint8),
    }


def _check(name: str, array: np.ndarray) -> None:
    shape = (N_IMAGES, 8, 8) if "images" in name else (N_IMAGES,)
    try:
        check_array(array, f"scikit-learn digits ({name})", shape, DIGITS_CHECKSUMS[name])
    except IdxError as error:
        raise IdxError(with_fix(error, SKLEARN_FIX)) from None


def load_digits_dataset(data_dir: str | Path | None = None) -> Dataset:
    """Load the digits with a fixed stratified split; ``data_dir`` does not apply (ignored)."""
    from sklearn.model_selection import train_test_split

    arrays = _sklearn_arrays()
    for name, array in arrays.items():
        _check(name, array)
    images, labels = arrays.values()
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=labels
    )
    return Dataset(
        name="digits",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=tuple(str(digit) for digit in range(10)),
        source="sklearn",
        checksums=dict(DIGITS_CHECKSUMS),
        cache_path=None,
    )


def verify_digits(data_dir: str | Path | None = None) -> list[FileCheck]:
    """Re-hash scikit-learn's digits as loaded now."""
    checks = []
    for name, array in _sklearn_arrays().items():
        try:
            _check(name, array)
            checks.append(FileCheck(f"scikit-learn digits ({name})"))
        except IdxError as error:
            checks.append(FileCheck(f"scikit-learn digits ({name})", str(error)))
    return checks


ENTRY = register(
    DatasetEntry(
        name="digits",
        summary="scikit-learn's 1,797 handwritten digits of 8x8, split 1,347 train + 450 test",
        load=load_digits_dataset,
        verify=verify_digits,
        title="digits (8x8)",
        validation_size=0.1,
        accuracy_targets=(0.90, 0.95, 0.97),
    )
)
