"""Peak resident memory of one run, not of the whole process.

``ru_maxrss`` is the process's maximum resident set size since it started: in a sweep that
trains several models in one process, a small model run after a large one would report the
large one's peak. On Linux the kernel keeps the same high-water mark (``VmHWM`` in
``/proc/self/status``) and lets a process reset it to the current size by writing ``5`` to
``/proc/self/clear_refs``; :class:`RunMemory` does that when a run starts and reads the mark
when it ends, which gives the exact peak of that run (every page the run touched, TensorFlow's
and NumPy's alike, without a sampling thread that could miss a short spike). Where that is not
possible (other systems, a /proc without the file) it falls back to ``ru_maxrss`` and says so.
"""

from __future__ import annotations

import re
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATUS_FILE = Path("/proc/self/status")
CLEAR_REFS_FILE = Path("/proc/self/clear_refs")
RESET_PEAK = "5"  # clear_refs: "reset the peak resident set size to the current size"
_process_peak_mib = 0.0  # highest mark seen before any reset, so the process's peak survives


def _status_mib(field: str) -> float | None:
    """A ``kB`` field of /proc/self/status in MiB, or None where there is no such file."""
    try:
        text = STATUS_FILE.read_text(encoding="ascii")
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+)\s+kB", text, re.MULTILINE)
    return None if match is None else int(match.group(1)) / 1024.0


def max_rss_mib() -> float:
    """``ru_maxrss`` of this process in MiB (kilobytes on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mib() -> float | None:
    """This process's resident memory right now, in MiB (None where /proc is missing)."""
    return _status_mib("VmRSS")


def _reset_peak() -> bool:
    """Reset the kernel's high-water mark to the current RSS; False where not allowed."""
    global _process_peak_mib
    before = _status_mib("VmHWM")
    if before is None:
        return False
    try:
        CLEAR_REFS_FILE.write_text(RESET_PEAK, encoding="ascii")
    except OSError:
        return False
    _process_peak_mib = max(_process_peak_mib, before)
    return True


@dataclass
class RunMemory:
    """Started when a run starts; :meth:`summary` says how much memory the run needed."""

    start_mib: float
    per_run: bool

    @classmethod
    def start(cls) -> RunMemory:
        """Note the current RSS and reset the high-water mark where the kernel allows it."""
        per_run = _reset_peak()
        current = current_rss_mib()
        return cls(start_mib=current if current is not None else max_rss_mib(), per_run=per_run)

    def peak_mib(self) -> float:
        """The highest RSS since :meth:`start` (per run), or the process's maximum so far."""
        mark = _status_mib("VmHWM") if self.per_run else None
        return mark if mark is not None else max_rss_mib()

    def summary(self) -> dict[str, Any]:
        """Peak, start, the run's increase over its start, the process's peak, and the method."""
        peak = self.peak_mib()
        return {
            "peak_rss_mb": peak,
            "start_rss_mb": self.start_mib,
            "run_increase_mb": max(0.0, peak - self.start_mib),
            "process_peak_rss_mb": max(_process_peak_mib, peak, max_rss_mib()),
            "per_run": self.per_run,
            "method": "VmHWM after resetting it at the run's start (/proc/self/clear_refs)"
            if self.per_run
            else "ru_maxrss: the process's maximum since it started (earlier runs included)",
        }
