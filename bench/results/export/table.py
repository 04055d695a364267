"""Results as files other tools read: CSV, Parquet and JSON Lines tables of the run records.

:func:`results_table` reads a results folder into one of the tables of
:mod:`bench.results.export.flatten`; :func:`table_bytes` and :func:`write_table` turn it into a file
(written atomically); :func:`read_table` reads such a file back. Parquet needs ``pyarrow``
(``pip install 'mnist-bench[export]'``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_bytes
from bench.results.export.flatten import FRAMES, TABLES

if TYPE_CHECKING:
    import pandas as pd

    from bench.results.store.record import RunRecord

Format = Literal["csv", "parquet", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "parquet", "jsonl")
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}
PARQUET_HINT = "Parquet needs pyarrow: pip install 'mnist-bench[export]' (or pip install pyarrow)"


def check_results_dir(results_dir: Path) -> Path:
    """``results_dir`` as a Path; a missing folder is a :class:`BenchError` saying so."""
    folder = Path(results_dir)
    if not folder.is_dir():
        raise BenchError(
            f"no results folder {folder}: train something first "
            "(python -m bench run --model logreg:quick --dataset digits) or name another "
            "folder with --results-dir"
        )
    return folder


def records_table(records: list[RunRecord], table: str = "runs") -> pd.DataFrame:
    """Build ``table`` (``runs``, ``per_class`` or ``per_epoch``) from ``records``; the
    ``current`` column says which ones the leaderboard uses (newest definition per model)."""
    from bench.results.store.stale import split_by_definition

    if table not in FRAMES:
        raise BenchError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    current, _ = split_by_definition(records)
    ordered = sorted(records, key=lambda record: (record.finished_at, record.run_id))
    return FRAMES[table](ordered, [record.run_id for record in current])


def results_table(results_dir: Path, table: str = "runs") -> pd.DataFrame:
    """Read every readable record under ``results_dir`` into ``table``, oldest run first."""
    from bench.results.store.files import scan_records

    records, _ = scan_records(check_results_dir(results_dir))
    return records_table(records, table)


def table_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` encoded as ``csv``, ``parquet`` or ``jsonl`` (one JSON object per line)."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt == "jsonl":
        text = frame.to_json(orient="records", lines=True, double_precision=15)
        return (text if text.endswith("\n") or not text else text + "\n").encode("utf-8")
    if fmt == "parquet":
        _require_pyarrow()
        buffer = io.BytesIO()
        frame.to_parquet(buffer, engine="pyarrow", index=False)
        return buffer.getvalue()
    raise BenchError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_table(frame: pd.DataFrame, path: Path, fmt: str | None = None) -> Path:
    """Write ``frame`` to ``path`` atomically, in ``fmt`` or the format its suffix names."""
    path = Path(path)
    content = table_bytes(frame, fmt or format_of(path))
    try:
        atomic_write_bytes(path, content)
    except OSError as error:
        raise BenchError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def read_table(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (format from the file's suffix)."""
    import pandas as pd

    path = Path(path)
    fmt = format_of(path)
    if not path.is_file():
        raise BenchError(f"no file {path}")
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "jsonl":
        return pd.read_json(path, orient="records", lines=True)
    _require_pyarrow()
    return pd.read_parquet(path, engine="pyarrow")


def format_of(path: Path) -> Format:
    """The format a file name's suffix names; anything else is a :class:`BenchError`."""
    fmt = SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise BenchError(
            f"cannot tell the format of {path}: use a name ending in .csv, .parquet or .jsonl"
        )
    return fmt  # type: ignore[return-value]


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise BenchError(PARQUET_HINT) from None
