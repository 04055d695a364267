"""A folder of IDX files (raw or gzipped) as a source: a user's mirror or a system package."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from bench.data.idx import REFETCH_HINT, IdxError
from bench.data.spec import (
    IDX_FILES,
    FileCheck,
    IdxSpec,
    Source,
    SourceRejected,
    SourceUnavailable,
    Split,
)


def read_idx_bytes(path: Path) -> bytes:
    """Return the uncompressed content of an IDX file, gunzipping names ending in ``.gz``."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise IdxError(f"{path}: cannot be read ({error.strerror or error})") from None
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise IdxError(
            f"{path}: not a readable gzip file ({error}). Fix: {REFETCH_HINT}."
        ) from None


def find_idx_file(folder: Path, name: str) -> Path | None:
    """Return ``folder/name`` or ``folder/name.gz``, whichever exists (raw first)."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_split(spec: IdxSpec, folder: Path, source: str) -> Split:
    """Read and verify the four IDX files of ``spec`` from ``folder``."""
    arrays = {}
    for slot, name in IDX_FILES.items():
        path = find_idx_file(folder, name)
        if path is None:
            raise SourceRejected(f"{folder} has no {name} (nor {name}.gz)")
        try:
            arrays[slot] = spec.decode(slot, read_idx_bytes(path), str(path))
        except IdxError as error:
            raise SourceRejected(str(error)) from None
    return Split(arrays, dict(spec.checksums), source)


class FolderSource(Source):
    """IDX files in a folder. ``explicit`` folders (given by the user) must exist."""

    def __init__(self, spec: IdxSpec, folder: Path | None, kind: str, hint: str, explicit: bool):
        self.spec = spec
        self.folder = folder
        self.explicit = explicit
        self.label = f"{kind}:{folder}" if folder else kind
        self.hint = hint

    def fetch(self) -> Split:
        """Read the four files, or say why this folder cannot provide them."""
        if self.folder is None:
            raise SourceUnavailable("not set")
        if not self.folder.is_dir():
            error = SourceRejected if self.explicit else SourceUnavailable
            raise error(f"{self.folder} is not a folder")
        return read_split(self.spec, self.folder, self.label)

    def verify(self) -> list[FileCheck]:
        """Re-hash every IDX file in the folder (nothing when the folder is absent)."""
        if self.folder is None or not self.folder.is_dir():
            return []
        return [check_idx_file(self.spec, self.folder, slot) for slot in IDX_FILES]


def check_idx_file(spec: IdxSpec, folder: Path, slot: str) -> FileCheck:
    """Re-read and re-hash the IDX file for ``slot`` in ``folder``."""
    name = IDX_FILES[slot]
    path = find_idx_file(folder, name)
    if path is None:
        return FileCheck(str(folder / name), "missing (neither raw nor .gz)")
    try:
        spec.decode(slot, read_idx_bytes(path), str(path))
    except IdxError as error:
        return FileCheck(str(path), str(error))
    return FileCheck(str(path))
