"""``--resume``: skip runs that already have a good record, rerun the rest.

A run is done when the record at its run-id path (the id includes the config hash, which
covers the resolved config and the model's code fingerprint) reads back as a valid, ``ok``
record. Failed, missing, malformed and unreadable records are rerun, and the new record
replaces the old one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.core.spec import RunSpec
from bench.results.store.files import read_record, record_path
from bench.results.store.record import RecordError, RunRecord


@dataclass
class ResumePlan:
    """Runs to do, records already done, and why each run to do is not done yet."""

    todo: list[RunSpec] = field(default_factory=list)
    done: list[RunRecord] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)


def run_state(run: RunSpec, results_dir: Path) -> tuple[RunRecord | None, str]:
    """Return ``(record, "done")`` for a finished run, else ``(None, why it must run)``."""
    path = record_path(results_dir, run.run_id)
    if not path.exists():
        return None, "no record"
    try:
        record = read_record(path)
    except RecordError as error:
        return None, f"unusable record ({error})"
    if not record.ok:
        return None, "failed before"
    return record, "done"


def plan_resume(runs: Sequence[RunSpec], results_dir: Path) -> ResumePlan:
    """Split ``runs`` into those to run and the records of those already done."""
    plan = ResumePlan()
    for run in runs:
        record, state = run_state(run, results_dir)
        if record is not None:
            plan.done.append(record)
        else:
            plan.todo.append(run)
            plan.reasons[run.run_id] = state
    return plan


def describe_plan(plan: ResumePlan) -> list[str]:
    """Lines for the console: what is skipped and what reruns, grouped by model and dataset."""
    total = len(plan.todo) + len(plan.done)
    lines = [
        f"resume: {len(plan.done)} of {total} run(s) already have an ok record and are skipped; "
        f"{len(plan.todo)} to run"
    ]
    skipped: dict[str, list[int]] = defaultdict(list)
    for record in plan.done:
        skipped[f"{record.label}/{record.dataset}"].append(record.seed)
    lines += [f"  skip {name}: seeds {seed_ranges(seeds)}" for name, seeds in skipped.items()]
    rerun: dict[str, list[int]] = defaultdict(list)
    for run in plan.todo:
        reason = plan.reasons[run.run_id]
        if reason != "no record":
            rerun[f"{run.label}/{run.dataset} ({reason})"].append(run.seed)
    lines += [f"  rerun {name}: seeds {seed_ranges(seeds)}" for name, seeds in rerun.items()]
    return lines


def seed_ranges(seeds: Sequence[int]) -> str:
    """``0-2, 5``: sorted seeds with consecutive runs collapsed."""
    ordered = sorted(set(seeds))
    parts: list[str] = []
    start = previous = None
    for seed in ordered:
        if previous is not None and seed == previous + 1:
            previous = seed
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = seed
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}-{previous}")
    return ", ".join(parts)
