"""Corrupted test sets: computed once from a dataset's test images, then read from the cache.

    from bench.data import load_dataset
    from bench.data.corrupted import load_corrupted
    fogged = load_corrupted(load_dataset("mnist"), "fog", seed=0)   # fogged.images, fogged.labels

Each set is one ``.npy`` file with a JSON manifest beside it, under
``<cache root>/corrupted/<dataset>/v<corruption code version>/seed<seed>/<corruption>.npy``
(the cache root is ``$MNIST_BENCH_HOME``, as for the datasets). The manifest records the
SHA-256 of the ``.npy`` file and of the clean test images it was made from; a read re-hashes
both, and an entry that does not match (damaged, truncated, made from other test images) is
recomputed and rewritten. Writes are atomic, the manifest last.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_bytes, atomic_write_json
from bench.data.cache import cache_home, npy_bytes
from bench.data.corruptions import VERSION, corrupt, corruptions_for, get_corruption
from bench.data.dataset import Dataset
from bench.data.idx import idx_sha256, sha256_hex

log = logging.getLogger("bench.data")

CACHE_DIR = "corrupted"
MANIFEST_FORMAT = 1


@dataclass(frozen=True, eq=False)
class CorruptedSet:
    """One corrupted test set: uint8 images ``(N, H, W)`` and the clean test labels.

    ``source`` says where the images came from: ``computed``, ``cache:<path>`` or, for the
    published files, ``mnist-c:<path>``. ``seed`` is None for the published files.
    """

    dataset: str
    corruption: str
    images: np.ndarray
    labels: np.ndarray
    seed: int | None
    source: str


def corrupted_path(
    dataset_name: str, corruption: str, seed: int, cache_root: str | Path | None = None
) -> Path:
    """Where the corrupted set of these keys is cached (its manifest: same name, ``.json``)."""
    root = Path(cache_root) if cache_root is not None else cache_home()
    return root / CACHE_DIR / dataset_name / f"v{VERSION}" / f"seed{seed}" / f"{corruption}.npy"


def load_corrupted(
    dataset: Dataset, name: str, seed: int = 0, cache_root: str | Path | None = None
) -> CorruptedSet:
    """The test images of ``dataset`` under corruption ``name`` with ``seed``, from the cache
    when a verified entry exists, else computed and cached. Labels are ``dataset.y_test``."""
    get_corruption(name)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BenchError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    path = corrupted_path(dataset.name, name, seed, cache_root)
    expected = {
        "format": MANIFEST_FORMAT,
        "dataset": dataset.name,
        "corruption": name,
        "seed": seed,
        "code_version": VERSION,
        "clean_test_sha256": idx_sha256(dataset.x_test),
    }
    images = _read(path, expected, dataset.x_test.shape)
    source = f"cache:{path}"
    if images is None:
        images = corrupt(name, dataset.x_test, seed)
        source = "computed"
        try:
            _write(path, images, expected)
        except OSError as error:
            log.warning("%s: could not write the cache (%s); not cached", path, error)
    return CorruptedSet(dataset.name, name, images, dataset.y_test, seed, source)


def load_corrupted_suite(
    dataset: Dataset,
    names: list[str] | None = None,
    seed: int = 0,
    cache_root: str | Path | None = None,
) -> dict[str, CorruptedSet]:
    """Every corruption that applies to ``dataset`` (or ``names``), by name, in order."""
    chosen = corruptions_for(dataset.name) if names is None else names
    return {name: load_corrupted(dataset, name, seed, cache_root) for name in chosen}


def _manifest_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _read(path: Path, expected: dict[str, Any], shape: tuple[int, ...]) -> np.ndarray | None:
    """The cached images if the entry is complete and checks out; None (and why) otherwise."""
    manifest_path = _manifest_path(path)
    if not path.exists() and not manifest_path.exists():
        return None
    try:
        images = _verified(path, manifest_path, expected, shape)
    except _BadEntry as error:
        log.warning("%s: recomputing a bad cache entry: %s", path, error)
        return None
    return images


class _BadEntry(Exception):
    """A cache entry that must not be used."""


def _verified(
    path: Path, manifest_path: Path, expected: dict[str, Any], shape: tuple[int, ...]
) -> np.ndarray:
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        content = path.read_bytes()
    except FileNotFoundError as error:
        raise _BadEntry(f"{Path(error.filename).name} is missing (incomplete entry)") from None
    except (OSError, ValueError) as error:
        raise _BadEntry(f"unreadable ({error})") from None
    if not isinstance(manifest, dict):
        raise _BadEntry(f"{manifest_path.name} is not a manifest")
    for key, value in expected.items():
        if manifest.get(key) != value:
            raise _BadEntry(f"manifest {key} is {manifest.get(key)!r}, expected {value!r}")
    actual = sha256_hex(content)
    if actual != manifest.get("sha256"):
        raise _BadEntry(f"SHA-256 is {actual}, the manifest recorded {manifest.get('sha256')}")
    try:
        images = np.load(io.BytesIO(content), allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise _BadEntry(f"not a readable .npy file ({error})") from None
    if images.shape != shape or images.dtype != np.uint8:
        raise _BadEntry(f"holds {images.dtype} {images.shape}, expected uint8 {shape}")
    return images


def _write(path: Path, images: np.ndarray, expected: dict[str, Any]) -> None:
    content = npy_bytes(images)
    atomic_write_bytes(path, content)
    manifest = {
        **expected,
        "sha256": sha256_hex(content),
        "bytes": len(content),
        "shape": list(images.shape),
        "stored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "libraries": _library_versions(),
    }
    atomic_write_json(_manifest_path(path), manifest)


def _library_versions() -> dict[str, str]:
    """Versions of the libraries the corruptions are computed with (recorded, not checked)."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("numpy", "scipy", "scikit-image"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "absent"
    return versions
