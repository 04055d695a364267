"""Per-run peak memory: a run that allocates more shows more, and a later, smaller run does not
inherit an earlier run's peak (which ``ru_maxrss`` alone would report)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.measure.memory import RunMemory, current_rss_mib, max_rss_mib

MIB = 1024 * 1024


def touch(megabytes: int) -> np.ndarray:
    """An array of ``megabytes`` MiB whose every page is written (so it is resident)."""
    block = np.empty(megabytes * MIB, dtype=np.uint8)
    block[::4096] = 1
    return block


def test_run_peak_counts_what_the_run_allocated() -> None:
    memory = RunMemory.start()
    block = touch(160)
    summary = memory.summary()
    del block
    assert summary["run_increase_mb"] >= 150, summary
    assert summary["peak_rss_mb"] >= summary["start_rss_mb"] + 150
    assert summary["process_peak_rss_mb"] >= summary["peak_rss_mb"]
    assert summary["method"]


def test_later_run_does_not_inherit_an_earlier_peak() -> None:
    memory = RunMemory.start()
    if not memory.per_run:
        pytest.skip(f"no resettable high-water mark here: {memory.summary()['method']}")
    block = touch(200)
    first = memory.summary()
    del block
    second = RunMemory.start().summary()  # nothing allocated in this "run"
    assert first["run_increase_mb"] >= 190
    assert second["run_increase_mb"] < 50, second
    assert second["peak_rss_mb"] < first["peak_rss_mb"] - 150
    # The process's own maximum is remembered across the reset (the kernel's per-thread RSS
    # counters are batched, so the mark can lag the true figure by a fraction of a MiB).
    assert second["process_peak_rss_mb"] >= first["peak_rss_mb"] - 2
    assert max_rss_mib() > 0 and (current_rss_mib() or 1) > 0
