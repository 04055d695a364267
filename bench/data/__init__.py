"""Datasets as verified uint8 arrays, from the first source that works.

    from bench.data import load_dataset
    mnist = load_dataset("mnist")      # mnist.x_train: (60000, 28, 28) uint8

A dataset is one module that calls :func:`register` with a :class:`DatasetEntry`; the built-in
ones are imported here.
"""

from bench.data import digits, fashion_mnist, mnist  # noqa: F401  (they register themselves)
from bench.data.dataset import Dataset
from bench.data.mnist import load_mnist
from bench.data.registry import (
    DATASETS,
    DatasetEntry,
    dataset_names,
    get_entry,
    load_dataset,
    register,
    verify_dataset,
)

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetEntry",
    "dataset_names",
    "get_entry",
    "load_dataset",
    "load_mnist",
    "register",
    "verify_dataset",
]
