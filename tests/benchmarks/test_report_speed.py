"""How ``bench report`` scales with the number of run records: write N simulated schema-2
records (10,000 test predictions each, like MNIST) and time ``write_leaderboard`` on them,
first with no figures on disk (everything drawn) and then again (unchanged figures kept).

    pytest tests/benchmarks/test_report_speed.py --benchmark-only -s

prints one line per N with both times, and checks that 1,000 records take at most
``MAX_SECONDS_FOR_1000`` seconds of CPU from scratch. With ``--benchmark-disable`` (CI) only
the smallest N runs, once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from synthetic_records import simulated_records

from bench.results.report.leaderboard import write_leaderboard
from bench.results.store.files import write_record

# N records = models x datasets x seeds
SWEEPS = {24: (4, 2, 3), 240: (8, 3, 10), 1000: (10, 4, 25)}
DATASETS = ("mnist", "fashion_mnist", "digits", "kmnist")
MAX_SECONDS_FOR_1000 = 30.0


def write_sweep(folder: Path, n: int) -> int:
    """Write ``n`` simulated records under ``folder``; return how many were written."""
    n_models, n_datasets, n_seeds = SWEEPS[n]
    models = [(f"model{i:02d}", 0.90 + 0.09 * i / n_models) for i in range(n_models)]
    records = simulated_records(models, range(n_seeds), DATASETS[:n_datasets])
    for record in records:
        write_record(folder, record)
    return len(records)


def timed(results: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``write_leaderboard``."""
    wall, cpu = time.perf_counter(), time.process_time()
    write_leaderboard(results)
    return time.perf_counter() - wall, time.process_time() - cpu


@pytest.mark.parametrize("n", sorted(SWEEPS))
@pytest.mark.benchmark(group="report-scaling")
def test_report_time_against_record_count(
    benchmark: Any, n: int, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    if benchmark.disabled and n != min(SWEEPS):
        pytest.skip("quick mode: the smallest sweep only")
    assert write_sweep(tmp_path, n) == n
    times: dict[str, tuple[float, float]] = {}

    def cold_then_warm() -> None:
        for path in (tmp_path / "figures").glob("*"):
            path.unlink()
        times["cold"] = timed(tmp_path)
        times["warm"] = timed(tmp_path)

    benchmark.pedantic(cold_then_warm, rounds=1, iterations=1)
    (cold_wall, cold_cpu), (warm_wall, warm_cpu) = times["cold"], times["warm"]
    benchmark.extra_info.update(
        records=n,
        cold_wall_s=round(cold_wall, 2),
        cold_cpu_s=round(cold_cpu, 2),
        warm_wall_s=round(warm_wall, 2),
        warm_cpu_s=round(warm_cpu, 2),
    )
    with capsys.disabled():
        print(
            f"\n{n:>5} records: from scratch {cold_wall:6.1f} s wall ({cold_cpu:5.1f} s CPU); "
            f"figures kept {warm_wall:6.1f} s wall ({warm_cpu:5.1f} s CPU)"
        )
    text = (tmp_path / "LEADERBOARD.md").read_text()
    assert text.count("## Verdicts") == 1 and "model00" in text
    if n == 1000:
        assert cold_cpu <= MAX_SECONDS_FOR_1000, f"{cold_cpu:.1f} s of CPU for 1,000 records"
