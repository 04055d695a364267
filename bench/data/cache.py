"""The local cache: decoded arrays as ``.npy`` files plus a small manifest, per dataset.

Warm loads check each cached array against the published SHA-256 of its IDX file (the hash is
taken over the IDX encoding of the array, about 30 ms for all of MNIST), so a damaged entry is
never used. ``verify`` also re-hashes the ``.npy`` files against the manifest. Every file is
written atomically and the manifest last, so concurrent writers never leave a half-written file.
"""

from __future__ import annotations

import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from bench.data.idx import REFETCH_HINT, IdxError, sha256_hex
from bench.data.spec import (
    SLOTS,
    FileCheck,
    IdxSpec,
    Source,
    SourceRejected,
    SourceUnavailable,
    Split,
)
from bench.fsutil import atomic_write_bytes, atomic_write_json

HOME_ENV = "MNIST_BENCH_HOME"
MANIFEST = "manifest.json"
CACHE_FORMAT = 1


def cache_home() -> Path:
    """The cache root: ``$MNIST_BENCH_HOME``, else ``~/.cache/mnist-bench``."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "mnist-bench"


def npy_bytes(array: np.ndarray) -> bytes:
    """Return ``array`` serialised in NumPy's ``.npy`` format."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


class ArrayCache(Source):
    """The cached copy of one IDX dataset under ``folder``."""

    hint = ""

    def __init__(self, spec: IdxSpec, folder: Path):
        self.spec = spec
        self.folder = folder
        self.label = f"cache:{folder}"

    def npy_path(self, slot: str) -> Path:
        """Where the array for ``slot`` is cached."""
        return self.folder / f"{slot}.npy"

    @property
    def manifest_path(self) -> Path:
        """Where the manifest is written."""
        return self.folder / MANIFEST

    def is_empty(self) -> bool:
        """True when nothing of this dataset is cached."""
        paths = [self.manifest_path, *(self.npy_path(slot) for slot in SLOTS)]
        return not any(path.exists() for path in paths)

    def fetch(self) -> Split:
        """Load the cached arrays, each checked against its published SHA-256."""
        if self.is_empty():
            raise SourceUnavailable("empty")
        self._read_manifest()
        arrays = {slot: self._load(slot) for slot in SLOTS}
        return Split(arrays, dict(self.spec.checksums), self.label)

    def store(self, split: Split) -> None:
        """Write the verified ``split`` to the cache, the manifest last."""
        files = {}
        for slot in SLOTS:
            content = npy_bytes(split.arrays[slot])
            atomic_write_bytes(self.npy_path(slot), content)
            files[self.npy_path(slot).name] = {"sha256": sha256_hex(content), "bytes": len(content)}
        manifest = {
            "format": CACHE_FORMAT,
            "dataset": self.spec.name,
            "source": split.source,
            "stored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "checksums": split.checksums,
            "files": files,
        }
        atomic_write_json(self.manifest_path, manifest)

    def verify(self) -> list[FileCheck]:
        """Re-hash the manifest's files and every cached array in full."""
        if self.is_empty():
            return []
        try:
            files = self._read_manifest().get("files")
        except SourceRejected as error:
            return [FileCheck(str(self.manifest_path), str(error))]
        if not isinstance(files, dict):
            return [FileCheck(str(self.manifest_path), "lists no cached files")]
        checks = [FileCheck(str(self.manifest_path))]
        return checks + [self._check_npy(slot, files) for slot in SLOTS]

    def _read_manifest(self) -> dict[str, Any]:
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SourceRejected(f"{self.manifest_path} is missing (incomplete cache)") from None
        except (OSError, ValueError) as error:
            raise SourceRejected(f"{self.manifest_path} is unreadable ({error})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != CACHE_FORMAT:
            raise SourceRejected(f"{self.manifest_path} is not a format-{CACHE_FORMAT} manifest")
        return manifest

    def _load(self, slot: str) -> np.ndarray:
        path = self.npy_path(slot)
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise SourceRejected(f"{path} is unreadable ({error})") from None
        try:
            self.spec.check(slot, array, str(path))
        except IdxError as error:
            raise SourceRejected(str(error)) from None
        return array

    def _check_npy(self, slot: str, files: dict[str, Any]) -> FileCheck:
        path = self.npy_path(slot)
        try:
            actual = sha256_hex(path.read_bytes())
        except OSError as error:
            return FileCheck(str(path), f"cannot be read ({error.strerror or error})")
        recorded = files.get(path.name, {}).get("sha256")
        if actual != recorded:
            return FileCheck(
                str(path),
                f"checksum mismatch: SHA-256 is {actual}, the manifest recorded {recorded}. "
                f"Fix: {REFETCH_HINT}.",
            )
        try:
            self._load(slot)
        except SourceRejected as error:
            return FileCheck(str(path), str(error))
        return FileCheck(str(path))
