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
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from bench.core.fsutil import atomic_write_bytes, atomic_write_json
from bench.data.idx import REFETCH_HINT, IdxError, sha256_hex, with_fix
from bench.data.spec import (
    SLOTS,
    FileCheck,
    IdxSpec,
    Source,
    SourceRejected,
    SourceUnavailable,
    Split,
)

HOME_ENV = "MNIST_BENCH_HOME"
MANIFEST = "manifest.json"
CACHE_FORMAT = 1
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def cache_home() -> Path:
    """The cache root: ``$MNIST_BENCH_HOME`` (``~`` expanded), else ``~/.cache/mnist-bench``."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "mnist-bench"


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
            files = self._read_manifest()["files"]
        except SourceRejected as error:
            return [FileCheck(str(self.manifest_path), str(error))]
        checks = [FileCheck(str(self.manifest_path))]
        return checks + [self._check_npy(slot, files[self.npy_path(slot).name]) for slot in SLOTS]

    def _read_manifest(self) -> dict[str, Any]:
        """Return the manifest, checked to be well formed; SourceRejected says what is wrong."""
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SourceRejected(f"{self.manifest_path} is missing (incomplete cache)") from None
        except (OSError, ValueError) as error:
            raise SourceRejected(
                f"{self.manifest_path} is unreadable ({error}). Fix: {REFETCH_HINT}."
            ) from None
        problem = manifest_problem(manifest, [self.npy_path(slot).name for slot in SLOTS])
        if problem:
            raise SourceRejected(
                f"{self.manifest_path} is not a valid format-{CACHE_FORMAT} manifest: {problem}. "
                f"Fix: {REFETCH_HINT}."
            )
        return manifest

    def _load(self, slot: str) -> np.ndarray:
        """Load the cached array for ``slot`` and check it against the published SHA-256.

        The ``.npy`` header is read first (the data is only mapped), so a file claiming another
        shape or type is rejected before its data is read into memory.
        """
        path = self.npy_path(slot)
        try:
            mapped = np.load(path, mmap_mode="r", allow_pickle=False)
            if not isinstance(mapped, np.ndarray):
                raise ValueError(f"not a single array but {type(mapped).__name__}")
            self.spec.check_layout(slot, mapped, str(path))
            array = np.array(mapped)
            del mapped
            self.spec.check(slot, array, str(path))
        except (OSError, ValueError, EOFError) as error:
            raise SourceRejected(f"{path} is unreadable ({error}). Fix: {REFETCH_HINT}.") from None
        except IdxError as error:
            raise SourceRejected(with_fix(error, REFETCH_HINT)) from None
        return array

    def _check_npy(self, slot: str, recorded: dict[str, Any]) -> FileCheck:
        path = self.npy_path(slot)
        try:
            actual = sha256_hex(path.read_bytes())
        except OSError as error:
            return FileCheck(
                str(path), f"cannot be read ({error.strerror or error}). Fix: {REFETCH_HINT}."
            )
        if actual != recorded["sha256"]:
            return FileCheck(
                str(path),
                f"checksum mismatch: SHA-256 is {actual}, the manifest recorded "
                f"{recorded['sha256']}. Fix: {REFETCH_HINT}.",
            )
        try:
            self._load(slot)
        except SourceRejected as error:
            return FileCheck(str(path), str(error))
        return FileCheck(str(path))


def manifest_problem(manifest: Any, npy_names: list[str]) -> str | None:
    """Say what is wrong with a parsed manifest (None when it is well formed).

    A well-formed manifest is a JSON object with ``format`` equal to the current cache format,
    a ``dataset`` string and a ``files`` object giving, for each ``.npy`` name, an object with
    a 64-character hex ``sha256`` and a non-negative integer ``bytes``.
    """
    if not isinstance(manifest, dict):
        return f"expected a JSON object, found {_json_type(manifest)}"
    version = manifest.get("format")
    if type(version) is not int or version != CACHE_FORMAT:
        return f"expected format {CACHE_FORMAT}, found {version!r}"
    if not isinstance(manifest.get("dataset"), str):
        return f"expected a dataset name, found {_json_type(manifest.get('dataset'))}"
    files = manifest.get("files")
    if not isinstance(files, dict):
        return f"expected 'files' to be an object, found {_json_type(files)}"
    for name in npy_names:
        entry = files.get(name)
        if not isinstance(entry, dict):
            return f"expected files[{name!r}] to be an object, found {_json_type(entry)}"
        digest, size = entry.get("sha256"), entry.get("bytes")
        if not (isinstance(digest, str) and _SHA256_HEX.fullmatch(digest)):
            return f"expected files[{name!r}].sha256 to be 64 hex digits, found {digest!r:.80}"
        if type(size) is not int or size < 0:
            return f"expected files[{name!r}].bytes to be a byte count, found {size!r:.80}"
    return None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")
