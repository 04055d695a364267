"""The record store: where records live under a results folder, and reading and writing them.

Layout: ``<results>/runs/<run-id>/record.json`` plus, beside it, ``probabilities.npz`` (the
validation and test probabilities as float16). Every write is atomic. Reading never raises
on a bad file: :func:`scan_records` returns the good records and, for every other file, the
reason it was left out.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_bytes, atomic_write_json
from bench.results.store.record import RecordError, RunRecord

RECORD_FILE = "record.json"
PROBABILITIES_FILE = "probabilities.npz"
DEFAULT_RESULTS_DIR = Path("results")


@dataclass(frozen=True)
class Unreadable:
    """A record file that could not be used, and why."""

    path: Path
    reason: str
    partial: dict


def run_folder(results_dir: Path, run_id: str) -> Path:
    """The folder holding the record of ``run_id``."""
    return Path(results_dir) / "runs" / run_id


def record_path(results_dir: Path, run_id: str) -> Path:
    """Where the record of ``run_id`` lives under ``results_dir``."""
    return run_folder(results_dir, run_id) / RECORD_FILE


def write_record(results_dir: Path, record: RunRecord) -> Path:
    """Write ``record`` (and, first, the probabilities it carries) atomically; return its path.

    Raise a :class:`BenchError` naming the folder if it cannot be written.
    """
    path = record_path(results_dir, record.run_id)
    try:
        if record.probability_arrays:
            record.probabilities = write_probabilities(
                results_dir, record.run_id, record.probability_arrays
            )
        atomic_write_json(path, record.to_dict())
    except OSError as error:
        raise BenchError(
            f"cannot write the record {path}: {error.strerror or error}. "
            "Choose a writable folder with --results-dir."
        ) from None
    return path


def write_probabilities(results_dir: Path, run_id: str, arrays: dict[str, np.ndarray]) -> dict:
    """Store ``arrays`` (e.g. ``val`` and ``test`` probabilities) as float16 beside the record.

    Returns the record's ``probabilities`` entry: file name, SHA-256 of the file, dtype, shapes.
    """
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v, dtype=np.float16) for k, v in arrays.items()})
    content = buffer.getvalue()
    path = run_folder(results_dir, run_id) / PROBABILITIES_FILE
    atomic_write_bytes(path, content)
    return {
        "file": PROBABILITIES_FILE,
        "sha256": hashlib.sha256(content).hexdigest(),
        "dtype": "float16",
        "shapes": {k: list(np.shape(v)) for k, v in arrays.items()},
    }


def read_probabilities(results_dir: Path, record: RunRecord) -> dict[str, np.ndarray]:
    """Load a record's stored probabilities, checking the file's SHA-256."""
    entry = record.probabilities
    if not entry:
        raise BenchError(f"run {record.run_id} has no stored probabilities (rerun it)")
    path = run_folder(results_dir, record.run_id) / entry["file"]
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != entry["sha256"]:
        raise BenchError(f"{path} does not match the SHA-256 in its record; rerun that run")
    with np.load(io.BytesIO(content)) as archive:
        return {name: archive[name].astype(np.float32) for name in archive.files}


def read_record(path: Path) -> RunRecord:
    """Read and check one record file; raise :class:`RecordError` saying what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RecordError(f"cannot read: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise RecordError(f"not valid JSON ({error})") from None
    return RunRecord.from_dict(data)


def record_files(results_dir: Path) -> list[Path]:
    """Every ``record.json`` under ``results_dir/runs``, sorted by path."""
    runs = Path(results_dir) / "runs"
    try:
        return sorted(runs.glob(f"*/{RECORD_FILE}"))
    except OSError:
        return []


def scan_records(results_dir: Path) -> tuple[list[RunRecord], list[Unreadable]]:
    """Read every record under ``results_dir``: the good ones, and the others with reasons."""
    records: list[RunRecord] = []
    problems: list[Unreadable] = []
    for path in record_files(results_dir):
        try:
            records.append(read_record(path))
        except RecordError as error:
            problems.append(Unreadable(path, str(error), _partial(path)))
    return records, problems


def load_records(results_dir: Path) -> list[RunRecord]:
    """Every readable record under ``results_dir``, oldest first (unreadable ones skipped)."""
    records, _ = scan_records(results_dir)
    return sorted(records, key=lambda record: record.finished_at)


def _partial(path: Path) -> dict:
    """Whatever identity fields an unusable record still has, for listing it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    run = data.get("run") if isinstance(data.get("run"), dict) else data
    return {k: run.get(k) for k in ("model", "preset", "dataset", "seed") if k in run}
