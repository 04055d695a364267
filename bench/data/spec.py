"""What an IDX dataset must look like, and the records that sources hand back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from bench.data.idx import check_array, check_layout, parse_idx, read_idx, read_idx_gz

# Array slot -> standard IDX file name (MNIST and Fashion-MNIST share these names).
IDX_FILES: dict[str, str] = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
SLOTS: tuple[str, ...] = tuple(IDX_FILES)


class SourceUnavailable(Exception):
    """A source is not set up or cannot be reached; the next one is tried quietly."""


class SourceRejected(Exception):
    """A source gave missing or wrong data; it is reported, never used, and the next one tried."""


@dataclass(frozen=True)
class Split:
    """The four arrays of a dataset (keyed by slot), the checksums they passed, and their source."""

    arrays: dict[str, np.ndarray]
    checksums: dict[str, str]
    source: str


@dataclass(frozen=True)
class FileCheck:
    """The outcome of re-hashing one file: ``problem`` is None when the file is good."""

    path: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file passed."""
        return self.problem is None


class Source(ABC):
    """One place a dataset can come from; ``label`` names it, ``hint`` says how to enable it."""

    label: str
    hint: str

    @abstractmethod
    def fetch(self) -> Split:
        """Return the verified arrays, or raise SourceUnavailable / SourceRejected."""

    def verify(self) -> list[FileCheck]:
        """Re-hash the local copies this source holds (none, unless overridden)."""
        return []


@dataclass(frozen=True)
class IdxSpec:
    """An IDX dataset: its files' SHA-256, its shapes, its classes and its remote sources.

    ``fallback_sources`` builds the sources tried after the mirror folder and the cache
    (downloads, packages). The mirror folder comes from ``data_dir`` or the environment
    variable ``<NAME>_BENCH_MIRROR`` (``MNIST_BENCH_MIRROR``, ``FASHION_MNIST_BENCH_MIRROR``).
    """

    name: str
    class_names: tuple[str, ...]
    checksums: Mapping[str, str]
    n_train: int
    n_test: int
    image_shape: tuple[int, int]
    fallback_sources: Callable[[IdxSpec], list[Source]]

    @property
    def mirror_env(self) -> str:
        """Environment variable naming a folder of this dataset's IDX files."""
        return f"{self.name.upper()}_BENCH_MIRROR"

    def shape_of(self, slot: str) -> tuple[int, ...]:
        """Expected shape of the array in ``slot``."""
        count = self.n_train if slot.endswith("train") else self.n_test
        return (count, *self.image_shape) if slot.startswith("x") else (count,)

    def decode(self, slot: str, content: bytes, name: str) -> np.ndarray:
        """Parse the IDX ``content`` for ``slot`` and check its shape and SHA-256."""
        shape = self.shape_of(slot)
        array = parse_idx(content, name, ndim=len(shape), shape=shape)
        self.check(slot, array, name)
        return array

    def read(self, slot: str, stream: BinaryIO, name: str, *, gzipped: bool) -> np.ndarray:
        """Read the IDX file for ``slot`` from ``stream`` (gunzipping it as it is read when
        ``gzipped``) and check its shape and SHA-256.

        No more than the expected file length plus one byte is read: a file whose header
        gives other sizes is rejected after the header, one that goes on is rejected one byte
        past its expected end.
        """
        shape = self.shape_of(slot)
        reader = read_idx_gz if gzipped else read_idx
        array = reader(stream, name, ndim=len(shape), shape=shape)
        self.check(slot, array, name)
        return array

    def check(self, slot: str, array: np.ndarray, name: str) -> None:
        """Raise IdxError unless ``array`` is exactly the published content of ``slot``."""
        check_array(array, name, self.shape_of(slot), self.checksums[IDX_FILES[slot]])

    def check_layout(self, slot: str, array: np.ndarray, name: str) -> None:
        """Raise IdxError unless ``array`` has the dtype and shape of ``slot`` (data unread)."""
        check_layout(array, name, self.shape_of(slot))
