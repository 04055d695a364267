"""Run records: one JSON file per run, written atomically, read back for reports.

Records are the single source of truth: every table and figure is regenerated from them.
``SCHEMA_VERSION`` changes whenever a field changes meaning; readers skip other versions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.fsutil import atomic_write_json

SCHEMA_VERSION = 1
RECORD_FILE = "record.json"
REQUIRED_FIELDS = (
    "schema_version",
    "run_id",
    "status",
    "model",
    "preset",
    "dataset",
    "seed",
    "config",
    "environment",
)


def record_path(results_dir: Path, run_id: str) -> Path:
    """Where the record of ``run_id`` lives under ``results_dir``."""
    return Path(results_dir) / "runs" / run_id / RECORD_FILE


def write_record(results_dir: Path, record: dict[str, Any]) -> Path:
    """Validate and write ``record`` atomically; return its path."""
    validate_record(record)
    path = record_path(results_dir, record["run_id"])
    atomic_write_json(path, record)
    return path


def validate_record(record: dict[str, Any]) -> None:
    """Raise ``ValueError`` if ``record`` lacks a required field or has a bad status."""
    missing = [name for name in REQUIRED_FIELDS if name not in record]
    if missing:
        raise ValueError(f"run record is missing fields: {', '.join(missing)}")
    if record["status"] not in {"ok", "failed"}:
        raise ValueError(f"run record status must be 'ok' or 'failed', got {record['status']!r}")


def read_record(path: Path) -> dict[str, Any]:
    """Read one record file."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_records(results_dir: Path, *, warn: bool = True) -> list[dict[str, Any]]:
    """Read every record of the current schema under ``results_dir/runs``, oldest first.

    Unreadable files and records of another schema version are skipped with a warning on
    stderr, never mixed in silently.
    """
    records = []
    for path in sorted((Path(results_dir) / "runs").glob(f"*/{RECORD_FILE}")):
        try:
            record = read_record(path)
            validate_record(record)
        except (OSError, ValueError) as error:
            if warn:
                print(f"warning: skipping unreadable record {path}: {error}", file=sys.stderr)
            continue
        if record["schema_version"] != SCHEMA_VERSION:
            if warn:
                print(
                    f"warning: skipping {path}: schema {record['schema_version']}, "
                    f"this version reads schema {SCHEMA_VERSION} (rerun that model to refresh it)",
                    file=sys.stderr,
                )
            continue
        records.append(record)
    return sorted(records, key=lambda r: r.get("finished_at") or "")
