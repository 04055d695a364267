"""The dataset registry: name -> how to load it and how to re-verify its local copies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.data.dataset import Dataset
from bench.data.spec import FileCheck
from bench.errors import BenchError

DataDir = str | Path | None


@dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset."""

    name: str
    summary: str
    load: Callable[[DataDir], Dataset]
    verify: Callable[[DataDir], list[FileCheck]]


_REGISTRY: dict[str, DatasetEntry] = {}


def register(entry: DatasetEntry) -> DatasetEntry:
    """Add ``entry`` to the registry (a name can be registered once)."""
    if entry.name in _REGISTRY:
        raise ValueError(f"dataset {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry
    return entry


def dataset_names() -> list[str]:
    """Names of the registered datasets, in registration order."""
    return list(_REGISTRY)


def get_entry(name: str) -> DatasetEntry:
    """Return the entry for ``name``; a BenchError lists the known names otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(dataset_names())
        raise BenchError(f"unknown dataset '{name}'; known datasets: {known}") from None


def load_dataset(name: str, data_dir: DataDir = None) -> Dataset:
    """Load the dataset called ``name``, verified, from the first source that works."""
    return get_entry(name).load(data_dir)


def verify_dataset(name: str, data_dir: DataDir = None) -> list[FileCheck]:
    """Re-hash every local copy of the dataset called ``name``."""
    return get_entry(name).verify(data_dir)
