"""Timing arithmetic: percentiles, time-to-accuracy, training throughput, warm measurements,
and the figures a real run records (first epoch apart, validation excluded, % of peak)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bench.measure import timing
from bench.measure.timing import (
    measure_batch_throughput,
    measure_latency,
    summarize,
    time_to_accuracy,
    training_throughput,
)


def test_summarize_percentiles_by_hand() -> None:
    stats = summarize([5.0, 1.0, 4.0, 2.0, 3.0])
    # Linear interpolation over the sorted values 1..5: rank p/100 * 4.
    assert stats == {
        "min": 1.0,
        "median": 3.0,
        "p90": pytest.approx(4.6),
        "p99": pytest.approx(4.96),
        "max": 5.0,
        "iqr": pytest.approx(2.0),  # p75 = 4, p25 = 2
    }


def test_summarize_matches_numpy_on_many_values_and_rejects_empty() -> None:
    values = list(np.random.default_rng(0).exponential(size=1001))
    stats = summarize(values)
    assert stats["p99"] == pytest.approx(np.percentile(values, 99))
    assert stats["iqr"] == pytest.approx(np.percentile(values, 75) - np.percentile(values, 25))
    assert summarize([2.5])["iqr"] == 0.0
    with pytest.raises(ValueError, match="empty"):
        summarize([])


def _checks(accuracies: list[float | None]) -> list[dict]:
    return [
        {"epoch_fraction": 0.5 * (i + 1), "val_accuracy": acc, "train_seconds": 2.0 * (i + 1)}
        for i, acc in enumerate(accuracies)
    ]


def test_time_to_accuracy_takes_the_first_check_at_or_over_each_target() -> None:
    checks = _checks([0.85, 0.93, 0.981, 0.975, 0.99, 0.9925])
    assert time_to_accuracy(checks, (0.90, 0.95, 0.98, 0.99, 0.992)) == {
        "0.9": 4.0,
        "0.95": 6.0,
        "0.98": 6.0,
        "0.99": 10.0,
        "0.992": 12.0,
    }


def test_time_to_accuracy_leaves_out_targets_never_reached() -> None:
    targets = (0.90, 0.95)
    assert time_to_accuracy(_checks([0.5, None, 0.96]), targets) == {"0.9": 6.0, "0.95": 6.0}
    assert time_to_accuracy(_checks([0.5]), targets) == {}
    assert time_to_accuracy([], targets) == {}


def test_training_throughput_keeps_the_first_epoch_apart() -> None:
    history = [{"train_seconds": s} for s in (5.0, 2.0, 2.0, 3.0)]
    result = training_throughput(history, n_train=1000)
    assert result["first_epoch_seconds"] == 5.0
    assert result["first_epoch_overhead_seconds"] == pytest.approx(3.0)  # 5 - median(2, 2, 3)
    assert result["train_seconds"] == pytest.approx(12.0)
    assert result["samples_per_s"] == pytest.approx(4000 / 12)
    assert result["steady_samples_per_s"] == pytest.approx(3000 / 7)
    assert result["first_step_seconds"] is None and result["warm_samples_per_s"] is None
    single = training_throughput([{"train_seconds": 4.0}], n_train=1000)
    assert single["steady_samples_per_s"] is None
    assert single["first_epoch_overhead_seconds"] is None


def test_warm_throughput_leaves_out_the_first_compiled_call() -> None:
    # One epoch of 1,000 images in 4 s, of which the first call (graph building, 200 images)
    # took 1.5 s: warm throughput is 800 images in 2.5 s.
    history = [{"train_seconds": 4.0, "first_step_seconds": 1.5, "first_step_samples": 200}]
    result = training_throughput(history, n_train=1000)
    assert result["first_step_seconds"] == 1.5
    assert result["warm_samples_per_s"] == pytest.approx(800 / 2.5)
    assert result["samples_per_s"] == pytest.approx(250.0)


class FakeClock:
    """A perf_counter that moves only when the measured function says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def test_batch_throughput_is_warm_and_reports_median_and_spread(monkeypatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(timing, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    durations = iter([100.0, 4.0, 1.0, 3.0, 2.0, 5.0])  # the first is the warm-up call

    def predict_all(x: np.ndarray) -> None:
        clock.now += next(durations)

    result = measure_batch_throughput(predict_all, np.zeros((600, 2)), repeats=5, warmup=1)
    assert result["seconds"] == [4.0, 1.0, 3.0, 2.0, 5.0]  # warm-up excluded
    assert result["samples_per_s"] == pytest.approx(200.0)  # 600 images / median 3 s
    assert result["samples_per_s_best"] == pytest.approx(600.0)
    assert result["samples_per_s_worst"] == pytest.approx(120.0)
    assert result["seconds_summary"]["iqr"] == pytest.approx(2.0)


def test_slow_models_stop_timing_once_the_budget_is_spent(monkeypatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(timing, "time", SimpleNamespace(perf_counter=clock.perf_counter))

    def slow_pass(x: np.ndarray) -> None:
        clock.now += 10.0  # a k-NN-like 10 s per pass over the test set

    result = measure_batch_throughput(slow_pass, np.zeros((100, 2)), repeats=5, budget_seconds=15)
    assert result["repeats"] == 2 and result["seconds"] == [10.0, 10.0]
    one = measure_batch_throughput(slow_pass, np.zeros((100, 2)), repeats=5, budget_seconds=1)
    assert one["repeats"] == 1, "at least one timed pass"

    def slow_call(image: np.ndarray) -> None:
        clock.now += 0.5

    latency = measure_latency(slow_call, np.zeros((3, 2)), n=500, warmup=1, budget_seconds=10)
    assert latency["n"] == timing.MIN_LATENCY_CALLS, "a floor of calls, then the budget stops it"


def test_latency_percentiles_in_milliseconds(monkeypatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(timing, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    calls: list[tuple[int, ...]] = []

    def predict_one(image: np.ndarray) -> None:
        calls.append(image.shape)
        clock.now += 0.001 * len(calls)  # 1 ms, 2 ms, ... (warm-up calls included)

    result = measure_latency(predict_one, np.zeros((3, 4, 4)), n=101, warmup=10)
    assert len(calls) == 111 and set(calls) == {(1, 4, 4)}
    assert result["median_ms"] == pytest.approx(61.0)  # timed calls took 11..111 ms
    assert result["p99_ms"] == pytest.approx(110.0)
    assert result["min_ms"] == pytest.approx(11.0)


@pytest.mark.slow
def test_a_real_run_records_honest_timings() -> None:
    """cnn_fast on 8x8 digits for 3 short epochs: every timing field adds up."""
    from bench.data import load_dataset
    from bench.run.selection import build_runs
    from bench.run.trainer import execute_run

    (run,) = build_runs(["cnn_fast"], ["digits"], [0], ["epochs=3", "steps_per_execution=4"])
    record = execute_run(run, load_dataset("digits"))
    assert record.ok, record.error
    history, timings = record.history, record.timings
    for entry in history:
        assert entry["val_seconds"] > 0
        assert entry["train_seconds"] + entry["val_seconds"] == pytest.approx(entry["seconds"])
    assert history[-1]["elapsed_train_seconds"] == pytest.approx(
        sum(e["train_seconds"] for e in history), abs=1e-3
    )
    assert history[-1]["elapsed_seconds"] >= history[-1]["elapsed_train_seconds"]
    clocks = timings["clocks"]
    assert clocks["train_seconds"] + clocks["eval_seconds"] <= clocks["wall_seconds"]
    assert sum(timings["phases"].values()) == pytest.approx(clocks["wall_seconds"], rel=0.01)
    assert len(record.checks) >= len(history), "at least one validation check per epoch"
    fractions = [check["epoch_fraction"] for check in record.checks]
    assert fractions == sorted(fractions) and fractions[-1] == 3.0
    for check in record.checks:
        assert 0 < check["train_seconds"] <= clocks["train_seconds"] + 1e-9
    training = timings["training"]
    assert training["first_epoch_seconds"] == history[0]["train_seconds"]
    steady = sum(e["train_seconds"] for e in history[1:])
    assert training["steady_samples_per_s"] == pytest.approx(record.n_train * 2 / steady)
    assert 0 < training["first_step_seconds"] < training["first_epoch_seconds"]
    assert 0 <= history[0]["setup_seconds"] < training["first_step_seconds"]
    assert history[0]["first_step_samples"] == 4 * 128  # steps_per_execution x batch size
    assert training["warm_samples_per_s"] > training["samples_per_s"]
    for seconds in timings["time_to_accuracy"].values():
        assert seconds <= clocks["train_seconds"]
    assert timings["load_probe"]["gflops"] > 0
    peak = record.environment["matmul_peak"]
    assert peak["gflops"] > 1.0 and "matmul" in peak["method"]
    efficiency = timings["efficiency"]
    assert efficiency["peak_gflops"] == peak["gflops"]
    expected = record.flops["training_per_sample"] * training["steady_samples_per_s"] / 1e9
    assert efficiency["train_gflops"] == pytest.approx(expected)
    assert 0 < efficiency["train_percent_of_peak"] < 100
