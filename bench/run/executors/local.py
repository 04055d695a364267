"""The in-process executor: runs one after another in this process (a Keras run of another
backend than this process's trains in a worker process of that backend,
:mod:`bench.run.backend_worker`).

Whatever the executor, this process alone writes ``results/``: each record is written
atomically the moment its run finishes, so an interrupted sweep keeps every finished record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.core.spec import RunSpec
from bench.data import Dataset, load_dataset
from bench.results.store.files import write_record
from bench.results.store.record import RunRecord
from bench.run.backend_worker import BackendWorkers
from bench.run.backends import needs_backend_process
from bench.run.executors import Progress, RecordHook, register_executor
from bench.run.trainer import execute_run


def _format_seconds(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class SweepClock:
    """Estimates the time a sweep has left from the durations of the runs finished so far.

    A run still to come is estimated by the mean duration of the finished runs of the same
    model, preset and dataset, or of all finished runs while none of its kind has finished.
    """

    def __init__(self, runs: Sequence[RunSpec]) -> None:
        self.runs = list(runs)
        self.durations: dict[tuple[str, str], list[float]] = {}

    def finished(self, run: RunSpec, seconds: float) -> None:
        """Note that ``run`` took ``seconds``."""
        self.durations.setdefault((run.label, run.dataset), []).append(seconds)

    def after(self, index: int) -> float | None:
        """Estimated seconds for the runs after ``runs[index]``; None before any run finished."""
        if not self.durations:
            return None
        every = [s for seconds in self.durations.values() for s in seconds]
        overall = sum(every) / len(every)
        total = 0.0
        for run in self.runs[index + 1 :]:
            same = self.durations.get((run.label, run.dataset))
            total += sum(same) / len(same) if same else overall
        return total


def epoch_reporter(
    position: str, run: RunSpec, say: Progress, later_seconds: float | None = None
) -> Callable[[dict[str, Any]], None]:
    """Return an ``on_epoch`` callback that prints one progress line per epoch with an ETA.

    ``later_seconds`` (the estimated time of the runs after this one) adds a sweep ETA.
    """

    def report(entry: dict[str, Any]) -> None:
        epoch, epochs = entry["epoch"], entry["epochs"]
        eta = entry["elapsed_seconds"] / epoch * (epochs - epoch)
        val = entry.get("val_accuracy")
        val_text = f"val_acc {val:.4f}" if val is not None else ""
        sweep = "" if later_seconds is None else f", sweep ~{_format_seconds(eta + later_seconds)}"
        say(
            f"{position} {run.label} ({run.dataset}, seed {run.seed}) "
            f"epoch {epoch}/{epochs}  loss {entry['loss']:.4f}  {val_text}  "
            f"{entry['seconds']:.1f}s  ETA run {_format_seconds(eta)}{sweep}"
        )

    return report


@register_executor("local")
def run_in_process(
    runs: Sequence[RunSpec],
    results_dir: Path,
    say: Progress = print,
    scheduler: str | None = None,
    on_record: RecordHook | None = None,
) -> list[RunRecord]:
    """Run each spec in this process, writing its record as soon as it finishes (then calling
    ``on_record(record, path)`` when given).

    Runs train in this process, except Keras runs of another backend than this process's,
    which train in a worker process of their backend (one per backend, kept for the sweep).
    ``scheduler`` is not used (this executor takes none).
    """
    datasets: dict[tuple[str, str | None], Dataset] = {}
    records = []
    clock = SweepClock(runs)
    with BackendWorkers() as workers:
        for index, run in enumerate(runs, start=1):
            position = f"[{index}/{len(runs)}]"
            later = clock.after(index - 1)
            left = "" if later is None else f" (after it, ~{_format_seconds(later)} for the rest)"
            elsewhere = needs_backend_process(run)
            where = f" in a {run.backend} worker process" if elsewhere else ""
            say(f"{position} {run.label} on {run.dataset}, seed {run.seed}: training{where}{left}")
            start = time.perf_counter()
            on_epoch = epoch_reporter(position, run, say, later)
            if elsewhere:
                record = workers.run(run, on_epoch)
            else:
                key = (run.dataset, run.data_dir)
                if key not in datasets:
                    datasets[key] = load_dataset(run.dataset, run.data_dir)
                record = execute_run(run, datasets[key], on_epoch=on_epoch)
            seconds = time.perf_counter() - start
            clock.finished(run, seconds)
            path = write_record(results_dir, record)
            say(summary_line(position, run, record, seconds, path))
            records.append(record)
            if on_record is not None:
                on_record(record, path)
    return records


def summary_line(position: str, run: RunSpec, record: RunRecord, seconds: float, path: Path) -> str:
    """One line saying how a finished run went and where its record is."""
    outcome = f"ok, test accuracy {record.accuracy:.4f}" if record.ok else f"FAILED: {record.error}"
    return f"{position} {run.label}: {outcome} ({_format_seconds(seconds)}) -> {path}"
