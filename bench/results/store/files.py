"""The record store: where records live under a results folder, and reading and writing them.

Layout: ``<results>/runs/<run-id>/record.json`` plus, beside it, ``probabilities.npz`` (the
validation and test probabilities as float32) and, with ``--save-model``, the model's files
(:mod:`bench.results.store.model_files`). Every write is atomic. Every read goes through the
safe reader (:mod:`bench.core.safe_io`): a record must be a regular UTF-8 file inside the
results folder, at most :data:`RECORD_LIMIT` bytes, nesting at most 64 levels, with a run id
that is a safe file name, and the probabilities file it names must match the SHA-256 it
records. Reading never raises on a bad file: :func:`scan_records` returns the good records and,
for every other file, the reason it was left out (``--resume`` reruns those runs).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.core.errors import AfterTrainingError, BenchError
from bench.core.fsutil import atomic_write_bytes, atomic_write_json
from bench.core.names import name_problem, run_id_problem
from bench.core.safe_io import read_bytes, read_json
from bench.results.store.layout import run_folder
from bench.results.store.record import RecordError, RunRecord

RECORD_FILE = "record.json"
PROBABILITIES_FILE = "probabilities.npz"
DEFAULT_RESULTS_DIR = Path("results")
RECORD_LIMIT = 64 * 2**20
"""Largest record file read, in bytes (records with every extra are well under 1 MB)."""
PROBABILITIES_LIMIT = 512 * 2**20
"""Largest probabilities file read, in bytes (MNIST with robustness: well under 10 MB)."""


@dataclass(frozen=True)
class Unreadable:
    """A record file that could not be used, and why."""

    path: Path
    reason: str
    partial: dict


def record_path(results_dir: Path, run_id: str) -> Path:
    """Where the record of ``run_id`` lives under ``results_dir``."""
    return run_folder(results_dir, run_id) / RECORD_FILE


def write_record(results_dir: Path, record: RunRecord) -> Path:
    """Write ``record`` (and, first, the probabilities it carries) atomically; return its path.

    Raise an :class:`AfterTrainingError` (exit 3: the run has trained) naming the folder if it
    cannot be written.
    """
    path = record_path(results_dir, record.run_id)
    try:
        if record.probability_arrays:
            record.probabilities = write_probabilities(
                results_dir, record.run_id, record.probability_arrays
            )
        if record.model_files:
            from bench.results.store.model_files import store_model_files

            store_model_files(results_dir, record)
        atomic_write_json(path, record.to_dict())
    except OSError as error:
        raise AfterTrainingError(
            f"cannot write the record {path}: {error.strerror or error}. Records written "
            "before are kept; free space or choose a writable folder with --results-dir, then "
            "rerun the same command with --resume."
        ) from None
    return path


PROBABILITY_DTYPE = "float32"
"""How probabilities are stored. The trainer computes the test metrics from the float32 array
it stores, so log-loss, ECE and the predictions recompute exactly from the file (float16
rounded true-class probabilities to 0 and made argmax ties)."""


def write_probabilities(results_dir: Path, run_id: str, arrays: dict[str, np.ndarray]) -> dict:
    """Store ``arrays`` (e.g. ``val`` and ``test`` probabilities) as float32 beside the record.

    Returns the record's ``probabilities`` entry: file name, SHA-256 of the file, dtype, shapes.
    """
    buffer = io.BytesIO()
    stored: dict[str, Any] = {k: np.asarray(v, dtype=PROBABILITY_DTYPE) for k, v in arrays.items()}
    np.savez_compressed(buffer, **stored)
    content = buffer.getvalue()
    path = run_folder(results_dir, run_id) / PROBABILITIES_FILE
    atomic_write_bytes(path, content)
    return {
        "file": PROBABILITIES_FILE,
        "sha256": hashlib.sha256(content).hexdigest(),
        "dtype": PROBABILITY_DTYPE,
        "shapes": {k: list(np.shape(v)) for k, v in arrays.items()},
    }


def read_probabilities(results_dir: Path, record: RunRecord) -> dict[str, np.ndarray]:
    """Load a record's stored probabilities, checking the file's SHA-256."""
    if not record.probabilities:
        raise BenchError(f"run {record.run_id} has no stored probabilities (rerun it)")
    content = _verified_probabilities(results_dir, record)
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as archive:
            return {name: archive[name].astype(np.float32) for name in archive.files}
    except (OSError, ValueError, EOFError) as error:
        raise BenchError(
            f"the probabilities of run {record.run_id} are unreadable ({error})"
        ) from None


def probabilities_problem(results_dir: Path, record: RunRecord) -> str | None:
    """None if the probabilities file ``record`` names (if any) is there and matches its
    SHA-256, else what is wrong with it."""
    if not record.probabilities:
        return None
    try:
        _verified_probabilities(results_dir, record)
    except BenchError as error:
        return str(error)
    return None


def _verified_probabilities(results_dir: Path, record: RunRecord) -> bytes:
    entry = record.probabilities or {}
    name, expected = entry.get("file"), entry.get("sha256")
    if not isinstance(name, str) or name_problem(name) or not isinstance(expected, str):
        raise BenchError(f"its probabilities entry names no valid file and SHA-256: {entry!r:.80}")
    path = run_folder(results_dir, record.run_id) / name
    content = read_bytes(path, limit=PROBABILITIES_LIMIT, inside=results_dir)
    if hashlib.sha256(content).hexdigest() != expected:
        raise BenchError(f"{path} does not match the SHA-256 in its record; rerun that run")
    return content


def read_record(path: Path, results_dir: Path | None = None) -> RunRecord:
    """Read and check one record file; raise :class:`RecordError` saying what is wrong.

    The file must lie inside ``results_dir`` (default: its own run folder) through any links;
    see the module notes for every other check. Its probabilities are checked by
    :func:`probabilities_problem`, not here.
    """
    path = Path(path)
    try:
        data = read_json(path, limit=RECORD_LIMIT, inside=results_dir or path.parent)
    except BenchError as error:
        raise RecordError(getattr(error, "reason", str(error))) from None
    record = RunRecord.from_dict(data)
    problem = run_id_problem(record.run_id)
    if problem:
        raise RecordError(f"its run id {record.run_id[:80]!r} {problem}")
    return record


def read_usable_record(path: Path, results_dir: Path) -> RunRecord:
    """:func:`read_record`, and its probabilities file checked against the record's SHA-256."""
    record = read_record(path, results_dir)
    problem = probabilities_problem(results_dir, record)
    if problem:
        raise RecordError(f"unusable probabilities: {problem}")
    return record


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
            records.append(read_usable_record(path, results_dir))
        except RecordError as error:
            problems.append(Unreadable(path, str(error), _partial(path, results_dir)))
    return records, problems


def load_records(results_dir: Path) -> list[RunRecord]:
    """Every readable record under ``results_dir``, oldest first (unreadable ones skipped)."""
    records, _ = scan_records(results_dir)
    return sorted(records, key=lambda record: record.finished_at)


def _partial(path: Path, results_dir: Path) -> dict:
    """Whatever identity fields an unusable record still has, for listing it."""
    try:
        data = read_json(path, limit=RECORD_LIMIT, inside=results_dir)
    except BenchError:
        return {}
    if not isinstance(data, dict):
        return {}
    run = data["run"] if isinstance(data.get("run"), dict) else data
    return {k: run.get(k) for k in ("model", "preset", "dataset", "seed") if k in run}
