"""Where a run's files live under a results folder: ``<results>/runs/<run-id>/``."""

from __future__ import annotations

from pathlib import Path

from bench.core.errors import BenchError
from bench.core.names import run_id_problem


def run_folder(results_dir: Path, run_id: str) -> Path:
    """The folder holding the record of ``run_id``; a run id that is not a safe file name
    (see :mod:`bench.core.names`) is a :class:`BenchError`, so no record lands outside ``runs/``."""
    problem = run_id_problem(run_id)
    if problem:
        raise BenchError(f"run id {run_id[:80]!r} {problem}; rename the model or preset")
    return Path(results_dir) / "runs" / run_id
