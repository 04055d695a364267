"""Library warnings during a run: each distinct one shown once, with how often it came.

Python's ``default`` warning action shows a warning once per place, but every
``warnings.catch_warnings`` block that a library enters forgets which warnings were shown, so
scikit-learn's "daemon=True, setting n_jobs=1" came 529 times in one random-forest run on a Dask
worker. :func:`counted_warnings` counts instead: inside it, a warning the filters would show is
counted, not printed; when the run ends, each distinct warning (category, text and place) is
printed once through the usual ``warnings.showwarning``, with the count when it came more than
once. Filters that ignore a warning or turn it into an error act as before.

Warnings are global to a process. While one thread counts, runs on other threads (an in-process
Dask cluster's) leave the counting to it: their warnings are printed with its own at its end.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

_COUNTING = threading.Lock()
_SHOWN_ACTIONS = ("default", "module", "once")


@contextmanager
def counted_warnings() -> Iterator[dict[tuple[Any, ...], int]]:
    """Count the warnings shown inside the block; print each distinct one once at its end.

    Yields the counts by ``(category, text, file name, line)``, in the order first seen.
    """
    if not _COUNTING.acquire(blocking=False):
        yield {}  # another thread counts for the whole process
        return
    counts: dict[tuple[Any, ...], int] = {}
    try:
        with warnings.catch_warnings():
            _show_every_time()

            def count(
                message: Warning | str,
                category: type[Warning],
                filename: str,
                lineno: int,
                file: TextIO | None = None,
                line: str | None = None,
            ) -> None:
                key = (category, str(message), filename, lineno)
                counts[key] = counts.get(key, 0) + 1

            warnings.showwarning = count
            yield counts
        for (category, text, filename, lineno), times in counts.items():
            shown = text if times == 1 else f"{text} [{times:,} times in this run]"
            warnings.showwarning(category(shown), category, filename, lineno)
    finally:
        _COUNTING.release()


def _show_every_time() -> None:
    """The current filters, with every action that shows a warning turned into ``always`` (so
    each one reaches the counter) and ``ignore`` and ``error`` left as they are."""
    current = list(warnings.filters)
    warnings.resetwarnings()
    warnings.simplefilter("always", append=True)  # what matches no filter is shown, as before
    for action, message, category, module, lineno in reversed(current):
        warnings.filterwarnings(
            cast(Any, "always" if action in _SHOWN_ACTIONS else action),
            message=_pattern(message),
            category=cast(Any, category),
            module=_pattern(module),
            lineno=lineno,
        )


def _pattern(regex: Any) -> str:
    """A filter's message or module as the text ``filterwarnings`` takes (None: any)."""
    if regex is None:
        return ""
    return regex if isinstance(regex, str) else regex.pattern
