"""Reading files that may have been tampered with, and writing the files a user names.

Everything read back from a results folder or a cache (records, manifests, probabilities) and
every sweep file goes through :func:`read_bytes` (or its text, JSON and TOML forms). A file is
read only when it is a regular file: FIFOs, devices, folders and sockets are refused before they
are opened for reading, and with ``inside=FOLDER`` so is a symbolic link (or a linked folder on
the way) that leads out of that folder. A file larger than its cap is refused before it is read,
text must be UTF-8, and parsed JSON or TOML may nest at most :data:`MAX_DEPTH` levels. Every
refusal is an :class:`UnsafeFile` naming the file and the reason.

Every file a user names as an output (``bench export -o PATH``) goes through
:func:`write_output`: an existing path that is not a regular file (a FIFO, a device, a link, a
folder) is refused, missing parent folders are refused unless asked for (``--parents``), and
the folder is probed for writing before anything is computed (:func:`check_output_path`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_bytes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MAX_DEPTH = 64
"""Deepest nesting of lists and tables a JSON or TOML file may have (records nest about 6)."""
TEXT_LIMIT = 64 * 2**20
"""Default cap for a JSON or TOML file, in bytes."""
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 2**20
_JSON_ESCAPE = re.compile(r"\\.", re.DOTALL)
_JSON_STRING = re.compile(r'"[^"]*"?')
_DROP_ASCII = {code: None for code in range(128) if chr(code) not in "[]{}"}
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class UnsafeFile(BenchError):
    """A file the safe reader refused; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def kind_of(mode: int) -> str:
    """``a FIFO``, ``a folder``, ``a device``...: what a file of ``mode`` is, in words."""
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISREG, "a regular file"),
    )
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def check_inside(path: Path, folder: Path) -> None:
    """Raise :class:`UnsafeFile` if ``path``, with every link resolved, is not under ``folder``."""
    real = Path(os.path.realpath(path))
    root = Path(os.path.realpath(folder))
    if real != root and root not in real.parents:
        raise UnsafeFile(path, f"is a link to {real}, outside {folder}; replace it with the file")


def check_regular_file(path: Path | str, *, limit: int, inside: Path | str | None = None) -> None:
    """Raise :class:`UnsafeFile` unless ``path`` is a regular file of at most ``limit`` bytes
    (inside ``inside``, through links, when given): the checks of :func:`read_bytes`, for a
    file another library opens (a memory-mapped array)."""
    path = Path(path)
    if inside is not None:
        check_inside(path, Path(inside))
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UnsafeFile(path, "does not exist") from None
    except OSError as error:
        raise UnsafeFile(path, f"cannot be read ({error.strerror or error})") from None
    _check_regular(path, info.st_mode, info.st_size, limit)


def read_bytes(path: Path | str, *, limit: int, inside: Path | str | None = None) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    With ``inside``, a path that leads (through links) out of that folder is refused. The file
    is checked before it is opened (nothing blocks on a FIFO or reads a device) and again
    through its descriptor, and read no further than ``limit`` bytes even if it grows.
    """
    path = Path(path)
    check_regular_file(path, limit=limit, inside=inside)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise UnsafeFile(path, f"cannot be read ({error.strerror or error})") from None
    try:
        opened = os.fstat(fd)
        _check_regular(path, opened.st_mode, opened.st_size, limit)
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise UnsafeFile(path, f"cannot be read ({error.strerror or error})") from None
    finally:
        os.close(fd)
    if size > limit:
        raise UnsafeFile(path, f"grew past {limit:,} bytes while being read")
    return b"".join(chunks)


def _check_regular(path: Path, mode: int, size: int, limit: int) -> None:
    if not stat.S_ISREG(mode):
        raise UnsafeFile(path, f"is {kind_of(mode)}, not a regular file")
    if size > limit:
        raise UnsafeFile(path, f"is {size:,} bytes, more than the {limit:,} allowed")


def decode_text(path: Path | str, content: bytes) -> str:
    """``content`` as UTF-8 text; an :class:`UnsafeFile` names the first bad byte."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = content[error.start]
        raise UnsafeFile(
            path, f"is not UTF-8 text (byte 0x{bad:02x} at offset {error.start})"
        ) from None


def read_text(
    path: Path | str, *, limit: int = TEXT_LIMIT, inside: Path | str | None = None
) -> str:
    """The UTF-8 text of the regular file ``path`` (see :func:`read_bytes`)."""
    return decode_text(path, read_bytes(path, limit=limit, inside=inside))


def read_json(
    path: Path | str,
    *,
    limit: int = TEXT_LIMIT,
    inside: Path | str | None = None,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """The JSON value in ``path``, nested at most ``max_depth`` levels (see :func:`read_bytes`)."""
    return parse_json(path, read_text(path, limit=limit, inside=inside), max_depth)


def parse_json(path: Path | str, text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text`` (read from ``path``) as JSON with the depth bound of :func:`read_json`;
    the depth is measured on the text first, so no parse recurses past the bound."""
    if json_depth(text) > max_depth:
        raise UnsafeFile(path, f"nests deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # only with max_depth near Python's recursion limit
        raise UnsafeFile(path, f"nests deeper than {max_depth} levels") from None
    except ValueError as error:
        raise UnsafeFile(path, f"is not valid JSON ({error})") from None


def json_depth(text: str) -> int:
    """How deep the brackets of JSON ``text`` nest outside its strings (``[]`` is 1), in a few
    vectorised passes (escapes, then strings, then everything but brackets are dropped), so a
    huge file costs milliseconds per megabyte; for malformed text, an upper bound of the depth
    a parser could reach."""
    bare = _JSON_STRING.sub("", _JSON_ESCAPE.sub("", text)).translate(_DROP_ASCII)
    brackets = _NOT_BRACKET.sub("", bare)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def read_toml(
    path: Path | str,
    *,
    limit: int = TEXT_LIMIT,
    inside: Path | str | None = None,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any]:
    """The table in the TOML file ``path``, nested at most ``max_depth`` levels."""
    text = read_text(path, limit=limit, inside=inside)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise UnsafeFile(path, f"nests deeper than {max_depth} levels") from None
    except tomllib.TOMLDecodeError as error:
        raise UnsafeFile(path, f"is not valid TOML ({error})") from None
    check_depth(path, data, max_depth)
    return data


def check_depth(path: Path | str, data: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`UnsafeFile` if lists and mappings in ``data`` nest deeper than
    ``max_depth`` (a scalar is depth 0, ``[]`` depth 1). Walks without recursion."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            raise UnsafeFile(path, f"nests deeper than {max_depth} levels")
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


# --- writing ---------------------------------------------------------------------------------


def check_output_path(path: Path | str, *, parents: bool = False, option: str = "--output") -> Path:
    """Raise a :class:`BenchError` unless ``path`` can take a new file; return it as a Path.

    Refused: an existing path that is not a regular file (checked without following a link),
    a regular file this user may not write, a missing parent folder (unless ``parents``), a
    parent that is not a folder, and a folder where a probe file cannot be created.
    """
    path = Path(path)
    where = f"{option} {path}"
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        info = None  # the folder is checked next
    except OSError as error:
        raise BenchError(f"{where}: cannot check it ({error.strerror or error})") from None
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            raise BenchError(
                f"{where} is {kind_of(info.st_mode)}, and only a regular file is ever "
                "replaced; move it away or choose another path"
            )
        if not os.access(path, os.W_OK):
            raise BenchError(f"{where} is read-only; make it writable or choose another path")
    folder = _existing_folder(path, parents, where)
    probe = folder / f".write-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as error:
        raise BenchError(
            f"{where}: cannot write in {folder} ({error.strerror or error}); choose another path"
        ) from None
    return path


def _existing_folder(path: Path, parents: bool, where: str) -> Path:
    """The parent folder of ``path``, or with ``parents`` its nearest existing ancestor."""
    folder = path.parent
    missing = []
    while not folder.exists() and not folder.is_symlink():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    if missing and not parents:
        raise BenchError(
            f"{where}: the folder {path.parent} does not exist; create it first, or add "
            "--parents to create it"
        )
    if not folder.is_dir():
        raise BenchError(f"{where}: {folder} is not a folder")
    return folder


def write_output(
    path: Path | str, content: bytes, *, parents: bool = False, option: str = "--output"
) -> Path:
    """Write ``content`` to the user-named ``path`` atomically, after :func:`check_output_path`
    (checked again here, just before writing); missing folders are made only with ``parents``."""
    path = check_output_path(path, parents=parents, option=option)
    try:
        if parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, content)
    except OSError as error:
        raise BenchError(f"{option} {path}: cannot write it ({error.strerror or error})") from None
    return path
