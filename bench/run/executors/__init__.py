"""Executors: take a list of run specs and write one record per run.

An executor is a function ``execute(runs, results_dir, say, scheduler=None, on_record=None)
-> [RunRecord]`` registered with ``@register_executor("name", takes_scheduler=...)`` in a module
of this package; modules here are imported when the registry is first read. Whatever the
executor, this process alone writes the records, each as soon as its run finishes, and then
calls ``on_record(record, path)`` (the trackers of ``--track``) when one is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bench.core.registry import Registry, discover

if TYPE_CHECKING:
    from bench.core.spec import RunSpec
    from bench.results.store.record import RunRecord

Progress = Callable[[str], None]
RecordHook = Callable[["RunRecord", Path], None]


class Executor(Protocol):
    """How an executor is called."""

    def __call__(
        self,
        runs: Sequence[RunSpec],
        results_dir: Path,
        say: Progress = print,
        scheduler: str | None = None,
        on_record: RecordHook | None = None,
    ) -> list[RunRecord]: ...


@dataclass(frozen=True)
class ExecutorEntry:
    """A registered executor and whether it sends runs to a ``--scheduler``."""

    name: str
    run: Executor
    takes_scheduler: bool = False


def register_executor(
    name: str, *, takes_scheduler: bool = False
) -> Callable[[Executor], Executor]:
    """Decorator registering an executor function under ``name``."""

    def decorator(run: Executor) -> Executor:
        EXECUTORS.add(name, ExecutorEntry(name, run, takes_scheduler))
        return run

    return decorator


EXECUTORS: Registry[ExecutorEntry] = Registry("executor")
EXECUTORS.add_loader(discover(__name__, "mnist_bench.executors"))
