"""Which records a table may use: the current ones, and the others listed with a reason.

For each (model, preset, dataset) the newest record fixes the current run definition (its
config hash: resolved config, model code fingerprint, subset sizes, determinism). A record is
left out of every mean and test, and listed with its reason, when it

* cannot be read, is malformed, or has a schema this version cannot migrate,
* was produced by other model code than the newest record of its model ("model code changed"),
* or with another configuration (say seed 0 trained 9 epochs and seed 1 two, after
  ``--set epochs=2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.core.spec import model_label
from bench.results.store.files import Unreadable, scan_records
from bench.results.store.record import RunRecord


@dataclass(frozen=True)
class StaleRecord:
    """A record left out of the tables, with the reason in words."""

    path: Path | None
    run_id: str
    label: str
    dataset: str
    seed: int | str
    reason: str


@dataclass(frozen=True)
class RecordSet:
    """Records split into the ones tables use and the ones they list as left out."""

    current: list[RunRecord]
    stale: list[StaleRecord]


def current_records(results_dir: Path) -> RecordSet:
    """Read every record under ``results_dir`` once and split it into current and stale."""
    records, problems = scan_records(results_dir)
    current, outdated = split_by_definition(records)
    return RecordSet(current=current, stale=[_unreadable(p) for p in problems] + outdated)


def split_by_definition(records: list[RunRecord]) -> tuple[list[RunRecord], list[StaleRecord]]:
    """Keep the records whose run definition matches the newest record of their (model,
    preset, dataset); return them (oldest first) and the others as stale."""
    ordered = sorted(records, key=lambda record: record.finished_at)
    newest: dict[tuple[str, str], RunRecord] = {}
    for record in ordered:
        newest[(record.label, record.dataset)] = record
    current, stale = [], []
    for record in ordered:
        reference = newest[(record.label, record.dataset)]
        if record.config_hash == reference.config_hash:
            current.append(record)
        else:
            stale.append(_stale(record, describe_difference(record, reference)))
    return current, stale


def describe_difference(old: RunRecord, new: RunRecord) -> str:
    """Why ``old`` no longer matches ``new``: ``model code changed`` and/or the changed keys."""
    reasons = []
    if old.run.code_fingerprint != new.run.code_fingerprint:
        reasons.append("model code changed")
    flat_old, flat_new = _flatten(old), _flatten(new)
    keys = [
        k
        for k in sorted(set(flat_old) | set(flat_new))
        if k not in ("seed", "data_dir", "code_fingerprint") and flat_old.get(k) != flat_new.get(k)
    ]
    changed = ", ".join(f"{k} {flat_old.get(k)} (newest: {flat_new.get(k)})" for k in keys)
    if changed:
        reasons.append("other config than the newest run: " + changed)
    return "; ".join(reasons) or "other run definition than the newest run"


def _flatten(record: RunRecord) -> dict[str, Any]:
    flat = {k: v for k, v in record.run.to_dict().items() if k != "config"}
    flat.update(record.config)
    return flat


def _stale(record: RunRecord, reason: str) -> StaleRecord:
    return StaleRecord(None, record.run_id, record.label, record.dataset, record.seed, reason)


def _unreadable(problem: Unreadable) -> StaleRecord:
    partial = problem.partial
    return StaleRecord(
        path=problem.path,
        run_id=problem.path.parent.name,
        label=model_label(str(partial.get("model", "?")), str(partial.get("preset", "default"))),
        dataset=str(partial.get("dataset", "?")),
        seed=partial.get("seed", "?"),
        reason=f"unreadable: {problem.reason}",
    )
