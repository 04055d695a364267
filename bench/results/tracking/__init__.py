"""Trackers: hand each finished run to an experiment tracker (MLflow, TensorBoard).

A tracker lives in one module of this package and registers an *opener* with
:func:`register_tracker`. The opener takes the results folder and an optional tracking URI and
returns a :class:`Tracker`, whose ``log(record, results_dir)`` sends one record and says where
it went. Tracker modules import their library inside the opener, so listing trackers (and
``bench --help``) imports none of them.

``bench run --track NAME`` opens the trackers before the first run (a missing package or an
unreachable store stops the command before any training) and calls :class:`RecordTrackers`
after each record is written; a tracker that fails on one record prints a warning and the
sweep goes on: the record is already on disk, and ``bench export --to NAME`` sends it later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bench.core.errors import BenchError
from bench.core.registry import Registry, discover

if TYPE_CHECKING:
    from bench.results.store.record import RunRecord

Progress = Callable[[str], None]
NativeLoader = Callable[["RunRecord", Path], Any]
"""Rebuilds the framework's own model (``keras.Model``, ``torch.nn.Module``, estimator) of a
record that kept one. The commands hand it in (``bench.run.saved_model.native_model``): the
results layer knows no model code."""


class Tracker(Protocol):
    """An open connection to one tracker."""

    def log(self, record: RunRecord, results_dir: Path) -> str:
        """Send ``record``; return a short phrase saying where it went (or that it was there)."""
        ...

    def close(self) -> None:
        """Flush and release whatever the tracker holds."""
        ...


Opener = Callable[[Path, "str | None"], Tracker]


@runtime_checkable
class LogsNativeModels(Protocol):
    """A tracker that logs kept models in their frameworks' own formats when given a loader."""

    load_native: NativeLoader | None


@dataclass(frozen=True)
class TrackerEntry:
    """A registered tracker: how to open it and which package it needs."""

    name: str
    open: Opener
    requirement: str
    description: str


def register_tracker(
    name: str, *, requirement: str, description: str
) -> Callable[[Opener], Opener]:
    """Decorator registering ``open(results_dir, tracking_uri) -> Tracker`` under ``name``.

    ``requirement`` is what to install when the opener raises ``ImportError``
    (e.g. ``"mnist-bench[mlflow]"``).
    """

    def decorator(opener: Opener) -> Opener:
        TRACKERS.add(name, TrackerEntry(name, opener, requirement, description))
        return opener

    return decorator


TRACKERS: Registry[TrackerEntry] = Registry("tracker")
TRACKERS.add_loader(discover(__name__, "mnist_bench.trackers"))


def tracker_names(values: Iterable[str]) -> list[str]:
    """``["mlflow,tensorboard", "mlflow"]`` -> ``["mlflow", "tensorboard"]``, each checked."""
    names: list[str] = []
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if name and name not in names:
                TRACKERS.get(name)  # unknown names: an error listing the known ones
                names.append(name)
    return names


def open_tracker(
    name: str,
    results_dir: Path,
    tracking_uri: str | None = None,
    load_native: NativeLoader | None = None,
) -> Tracker:
    """Open the tracker ``name``; a missing package or unusable store is a :class:`BenchError`.

    ``load_native`` goes to a tracker that logs native models (:class:`LogsNativeModels`).
    """
    entry = TRACKERS.get(name)
    try:
        tracker = entry.open(Path(results_dir), tracking_uri)
    except BenchError:
        raise
    except ImportError as error:
        raise BenchError(
            f"--track {name} needs {entry.requirement} ({error}): pip install '{entry.requirement}'"
        ) from None
    except Exception as error:  # the library's own errors, whatever their type
        where = f" at {tracking_uri}" if tracking_uri else ""
        raise BenchError(
            f"cannot open the {name} tracker{where} ({type(error).__name__}: {error}); "
            f"check --tracking-uri, or leave out --track {name}"
        ) from None
    if isinstance(tracker, LogsNativeModels):
        tracker.load_native = load_native
    return tracker


class RecordTrackers:
    """The hook an executor calls after writing each record: every open tracker logs it.

    Calling it never raises (Ctrl-C aside): a tracker's failure is printed as a warning and
    counted in :attr:`failures`.
    """

    def __init__(
        self, trackers: Sequence[tuple[str, Tracker]], results_dir: Path, say: Progress = print
    ) -> None:
        self.trackers = list(trackers)
        self.results_dir = Path(results_dir)
        self.say = say
        self.failures = 0

    def __call__(self, record: RunRecord, path: Path | None = None) -> None:
        """Log ``record`` (already written at ``path``) with every tracker."""
        for name, tracker in self.trackers:
            try:
                where = tracker.log(record, self.results_dir)
            except Exception as error:
                self.failures += 1
                self.say(
                    f"warning: {name} did not take run {record.run_id} "
                    f"({type(error).__name__}: {error}). The record is kept; send it later "
                    f"with: python -m bench export --to {name} --results-dir {self.results_dir}"
                )
            else:
                self.say(f"  {name}: {where}")

    def close(self) -> None:
        """Close every tracker; a failure to close is a warning."""
        for name, tracker in self.trackers:
            try:
                tracker.close()
            except Exception as error:
                self.say(f"warning: closing {name} failed ({type(error).__name__}: {error})")

    def __enter__(self) -> RecordTrackers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_trackers(
    names: Sequence[str],
    results_dir: Path,
    tracking_uri: str | None = None,
    say: Progress = print,
    load_native: NativeLoader | None = None,
) -> RecordTrackers:
    """Open every tracker in ``names`` (closing those already open if one fails)."""
    opened: list[tuple[str, Tracker]] = []
    try:
        for name in names:
            opened.append((name, open_tracker(name, results_dir, tracking_uri, load_native)))
    except BaseException:
        RecordTrackers(opened, results_dir, say).close()
        raise
    return RecordTrackers(opened, results_dir, say)


def timestamp(iso: str | None) -> float | None:
    """Seconds since the epoch of a record's ISO time stamp; None when empty or unreadable."""
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


HISTORY_SKIP = ("epoch", "epochs")
"""History keys that are the step, not a value to plot."""


def epoch_values(entry: dict) -> dict[str, float]:
    """The numeric values of one history entry, without the step counters."""
    return {
        key: float(value)
        for key, value in entry.items()
        if key not in HISTORY_SKIP
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    }
