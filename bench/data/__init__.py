"""Datasets as verified uint8 arrays, from the first source that works.

    from bench.data import load_dataset
    mnist = load_dataset("mnist")      # mnist.x_train: (60000, 28, 28) uint8

New datasets register a :class:`DatasetEntry` with :func:`register`.
"""

from bench.data import digits, fashion_mnist, mnist
from bench.data.dataset import Dataset
from bench.data.mnist import load_mnist
from bench.data.registry import (
    DatasetEntry,
    dataset_names,
    get_entry,
    load_dataset,
    register,
    verify_dataset,
)

for _module in (mnist, fashion_mnist, digits):
    register(_module.ENTRY)

__all__ = [
    "Dataset",
    "DatasetEntry",
    "dataset_names",
    "get_entry",
    "load_dataset",
    "load_mnist",
    "register",
    "verify_dataset",
]
