"""A folder of IDX files (raw or gzipped) as a source: a user's mirror or a system package."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.core.errors import BenchError
from bench.data.idx import IdxError, with_fix
from bench.data.spec import (
    IDX_FILES,
    FileCheck,
    IdxSpec,
    Source,
    SourceRejected,
    SourceUnavailable,
    Split,
)


def read_idx_file(spec: IdxSpec, slot: str, path: Path) -> np.ndarray:
    """Read and check the IDX file for ``slot`` at ``path``, gunzipping names ending in ``.gz``.

    The file is streamed: at most its expected length plus one byte is read (or decompressed),
    so a huge or endlessly expanding file is rejected without filling memory.
    """
    try:
        handle = path.open("rb")
    except OSError as error:
        raise IdxError(f"{path}: cannot be read ({error.strerror or error})") from None
    with handle:
        return spec.read(slot, handle, str(path), gzipped=path.suffix == ".gz")


def find_idx_file(folder: Path, name: str) -> Path | None:
    """Return ``folder/name`` or ``folder/name.gz``, whichever exists (raw first)."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_split(spec: IdxSpec, folder: Path, source: str, fix: str = "") -> Split:
    """Read and verify the four IDX files of ``spec`` from ``folder``.

    ``fix`` says how to repair a bad file there; it is added to the error.
    """
    arrays = {}
    for slot, name in IDX_FILES.items():
        path = find_idx_file(folder, name)
        if path is None:
            raise SourceRejected(f"{folder} has no {name} (nor {name}.gz)")
        try:
            arrays[slot] = read_idx_file(spec, slot, path)
        except IdxError as error:
            raise SourceRejected(with_fix(error, fix)) from None
    return Split(arrays, dict(spec.checksums), source)


class FolderSource(Source):
    """IDX files in a folder. ``explicit`` folders (given by the user) must exist.

    ``fix`` says how to repair a bad file in the folder (it never says to delete a user's
    file); ``origin`` says where the folder was named (``--data-dir``, a variable).
    """

    def __init__(
        self,
        spec: IdxSpec,
        folder: Path | None,
        kind: str,
        hint: str,
        explicit: bool,
        *,
        fix: str = "",
        origin: str = "",
    ):
        self.spec = spec
        self.folder = folder
        self.explicit = explicit
        self.label = f"{kind}:{folder}" if folder else kind
        self.hint = hint
        self.fix = fix
        self.origin = origin

    def fetch(self) -> Split:
        """Read the four files, or say why this folder cannot provide them."""
        if self.folder is None:
            raise SourceUnavailable("not set")
        if not self.folder.is_dir():
            error = SourceRejected if self.explicit else SourceUnavailable
            raise error(self._not_a_folder())
        return read_split(self.spec, self.folder, self.label, self.fix)

    def verify(self) -> list[FileCheck]:
        """Re-read and re-hash every IDX file in the folder.

        An absent folder gives nothing to check, unless the user named it (``explicit``):
        then it is an error, since a mistyped folder must not pass as verified.
        """
        if self.folder is None:
            return []
        if not self.folder.is_dir():
            if self.explicit:
                raise BenchError(
                    f"cannot verify: {self._not_a_folder()}. Fix: name the folder that holds "
                    f"the four IDX files ({', '.join(IDX_FILES.values())}, raw or .gz)"
                )
            return []
        return [check_idx_file(self.spec, self.folder, slot, self.fix) for slot in IDX_FILES]

    def _not_a_folder(self) -> str:
        notes = [f"given by {self.origin}"] if self.origin else []
        if self.folder is not None and not self.folder.exists():
            notes.append("it does not exist")
        return f"{self.folder} is not a folder" + (f" ({'; '.join(notes)})" if notes else "")


def check_idx_file(spec: IdxSpec, folder: Path, slot: str, fix: str = "") -> FileCheck:
    """Re-read and re-hash the IDX file for ``slot`` in ``folder``; ``fix`` goes with a problem."""
    name = IDX_FILES[slot]
    path = find_idx_file(folder, name)
    if path is None:
        return FileCheck(
            str(folder / name),
            f"missing (neither raw nor .gz). Fix: put {name} or {name}.gz in {folder}",
        )
    try:
        read_idx_file(spec, slot, path)
    except IdxError as error:
        return FileCheck(str(path), with_fix(error, fix))
    return FileCheck(str(path))
