"""The dataset registry: name -> how to load it, re-verify it, and what the race expects of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.core.registry import Registry, discover
from bench.data.dataset import Dataset
from bench.data.spec import FileCheck

DataDir = str | Path | None


@dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset.

    ``validation_size`` is how many training images the fixed, stratified validation split
    holds (an int), or a fraction of the training set (a float below 1).
    ``accuracy_targets`` are the validation accuracies time-to-accuracy is measured for.
    """

    name: str
    summary: str
    load: Callable[[DataDir], Dataset]
    verify: Callable[[DataDir], list[FileCheck]]
    title: str = ""
    validation_size: int | float = 5000
    accuracy_targets: tuple[float, ...] = (0.97, 0.98, 0.99, 0.992)

    @property
    def display_name(self) -> str:
        """The name people read in tables ("Fashion-MNIST"); the slug if none was given."""
        return self.title or self.name


DATASETS: Registry[DatasetEntry] = Registry(
    "dataset", hint="Run 'python -m bench data info' to describe them."
)
# The built-in datasets register when bench.data is imported (which importing this module
# does); installed packages add theirs through this entry point group.
DATASETS.add_loader(discover(group="mnist_bench.datasets"))


def register(entry: DatasetEntry) -> DatasetEntry:
    """Add ``entry`` to the dataset registry (a name can be registered once)."""
    return DATASETS.add(entry.name, entry)


def dataset_names() -> list[str]:
    """Names of the registered datasets."""
    return DATASETS.names()


def get_entry(name: str) -> DatasetEntry:
    """Return the entry for ``name``; a BenchError lists the known names otherwise."""
    return DATASETS.get(name)


def load_dataset(name: str, data_dir: DataDir = None) -> Dataset:
    """Load the dataset called ``name``, verified, from the first source that works."""
    return get_entry(name).load(data_dir)


def verify_dataset(name: str, data_dir: DataDir = None) -> list[FileCheck]:
    """Re-hash every local copy of the dataset called ``name``."""
    return get_entry(name).verify(data_dir)
