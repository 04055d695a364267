"""Small filesystem helpers shared by the data cache, the run records and the report.

Every file the project writes goes through :func:`atomic_write_bytes` (or its text and JSON
forms): readers see the old file or the whole new one, and the new file gets the mode a plain
``open(path, "w")`` would give it (``0o666`` less the process umask).

A write that is killed (SIGKILL, power loss) can leave its temporary file behind; such files
are named ``.<name>.<8 random characters>.tmp`` beside their target, and
:func:`remove_stale_temporaries` removes those that nobody has written to for a while.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

NEW_FILE_MODE = 0o666  # reduced by the umask, as for any file a program creates
STALE_AFTER_S = 3600.0
# ``.<target name>.<token>.tmp``; the token is 8 characters from [a-z0-9_], which covers both the
# hex tokens written now and the ones tempfile.mkstemp wrote in earlier versions.
_TEMPORARY_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp")
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL
_CREATE_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and the
    temporary file is then renamed over ``path`` (an atomic operation on POSIX file systems).
    The file is created with mode ``0o666`` less the umask, like any file ``open`` creates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_path = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=False) + "\n")


def is_temporary_name(name: str) -> bool:
    """True when ``name`` is that of a temporary file :func:`atomic_write_bytes` creates."""
    return _TEMPORARY_NAME.fullmatch(name) is not None


def remove_stale_temporaries(
    folder: Path,
    *,
    older_than_s: float = STALE_AFTER_S,
    recursive: bool = False,
    now: float | None = None,
) -> list[Path]:
    """Remove the temporaries that interrupted atomic writes left in ``folder``; return them.

    Only regular files whose name has the exact temporary pattern (``.<name>.<8 characters>.tmp``)
    and that were last modified more than ``older_than_s`` seconds before ``now`` (default: the
    current time) are removed, so a write in progress in another process is left alone. Other
    files, links and folders are never touched, and links to folders are not followed; a file
    that cannot be removed is skipped. ``recursive`` also searches the subfolders (such as one
    folder per run). A missing ``folder`` has nothing to remove.
    """
    if older_than_s < 0:
        raise ValueError(f"older_than_s must be 0 or more, got {older_than_s}")
    cutoff = (time.time() if now is None else now) - older_than_s
    removed = []
    pending = [Path(folder)]
    while pending:
        current = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if recursive and entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif is_temporary_name(entry.name) and _remove_if_older(entry, cutoff):
                removed.append(Path(entry.path))
    return removed


def _remove_if_older(entry: os.DirEntry, cutoff: float) -> bool:
    """Remove ``entry`` if it is a regular file last modified before ``cutoff``."""
    try:
        if not entry.is_file(follow_symlinks=False):
            return False
        if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
            return False
        os.unlink(entry.path)
    except OSError:
        return False
    return True


def _create_temporary(path: Path) -> tuple[int, Path]:
    """Create a new, empty temporary file beside ``path``; return its descriptor and path.

    ``os.open`` with ``O_EXCL`` and mode 0o666 lets the kernel apply the umask (and a folder's
    default ACL), which ``tempfile.mkstemp`` (always 0o600) would not.
    """
    for _ in range(100):
        candidate = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(candidate, _CREATE_FLAGS, NEW_FILE_MODE), candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {path}")
