"""Which records a table may use: the current ones, and the stale ones it lists and leaves out.

For each (model, preset, dataset) the newest record fixes the current configuration (the run's
config hash: resolved config, subset sizes, determinism). A record is stale, and never mixed
into a mean or a test, when it

* has another schema version than this code writes,
* cannot be read or lacks required fields, or
* was produced with another configuration than the newest record of its model on its dataset
  (say seed 0 trained for 9 epochs and seed 1 for 2 epochs after a ``--set epochs=2``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.results.record import RECORD_FILE, SCHEMA_VERSION, read_record, validate_record
from bench.run.spec import RunSpec


@dataclass(frozen=True)
class StaleRecord:
    """A record left out of the tables, with the reason in words."""

    path: Path
    run_id: str
    label: str
    dataset: str
    seed: int | str
    reason: str


@dataclass(frozen=True)
class RecordSet:
    """Records split into the ones tables use and the ones they list as left out."""

    current: list[dict[str, Any]]
    stale: list[StaleRecord]


def config_hash(record: dict[str, Any]) -> str:
    """The config hash of the run that produced ``record``."""
    return RunSpec.from_dict(record["run"]).config_hash()


def scan_records(results_dir: Path) -> RecordSet:
    """Read every record under ``results_dir/runs`` and split it into current and stale."""
    readable: list[tuple[Path, dict[str, Any]]] = []
    stale: list[StaleRecord] = []
    for path in sorted((Path(results_dir) / "runs").glob(f"*/{RECORD_FILE}")):
        try:
            record = read_record(path)
            validate_record(record)
            if record["schema_version"] == SCHEMA_VERSION:
                config_hash(record)
        except (OSError, ValueError, KeyError, TypeError) as error:
            stale.append(_stale(path, _partial(path), f"unreadable: {error}"))
            continue
        if record["schema_version"] != SCHEMA_VERSION:
            reason = f"schema {record['schema_version']}, this version reads {SCHEMA_VERSION}"
            stale.append(_stale(path, record, reason))
            continue
        readable.append((path, record))
    current, outdated = split_by_config(readable)
    return RecordSet(current=current, stale=stale + outdated)


def split_by_config(
    records: list[tuple[Path, dict[str, Any]]],
) -> tuple[list[dict[str, Any]], list[StaleRecord]]:
    """Keep the records whose config matches the newest record of their (model, preset,
    dataset); return them (oldest first) and the others as stale."""
    ordered = sorted(records, key=_age)
    newest: dict[tuple, dict[str, Any]] = {}
    for _, record in ordered:
        newest[(record["model"], record["preset"], record["dataset"])] = record
    current, stale = [], []
    for path, record in ordered:
        reference = newest[(record["model"], record["preset"], record["dataset"])]
        if config_hash(record) == config_hash(reference):
            current.append(record)
        else:
            reason = "other config than the newest run: " + describe_difference(
                record["run"], reference["run"]
            )
            stale.append(_stale(path, record, reason))
    return current, stale


def _age(item: tuple[Path, dict[str, Any]]) -> tuple[str, int]:
    """Sort key, oldest first: ``finished_at`` (whole seconds), then the file's write time."""
    path, record = item
    try:
        written = path.stat().st_mtime_ns
    except OSError:
        written = 0
    return record.get("finished_at") or "", written


def describe_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """``epochs 9 (newest: 2), limit_train None (newest: 2000)``: what differs between two runs."""
    flat_old, flat_new = _flatten(old), _flatten(new)
    keys = [
        k
        for k in sorted(set(flat_old) | set(flat_new))
        if k not in ("seed", "data_dir") and flat_old.get(k) != flat_new.get(k)
    ]
    return ", ".join(f"{k} {flat_old.get(k)} (newest: {flat_new.get(k)})" for k in keys) or "?"


def _flatten(run: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in run.items() if k != "config"}
    flat.update(run.get("config") or {})
    return flat


def _partial(path: Path) -> dict[str, Any]:
    """Whatever identity fields an unreadable or invalid record still has."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _stale(path: Path, record: dict[str, Any], reason: str) -> StaleRecord:
    model, preset = record.get("model", "?"), record.get("preset", "default")
    return StaleRecord(
        path=path,
        run_id=record.get("run_id", path.parent.name),
        label=model if preset == "default" else f"{model}:{preset}",
        dataset=record.get("dataset", "?"),
        seed=record.get("seed", "?"),
        reason=reason,
    )
