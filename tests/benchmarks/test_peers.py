"""The speed targets: each of our recipes against its peer, back to back in one process.

One benchmark per target. Each runs the peer and ours alternately (the order rotates from
round to round, so drift of a shared machine's load falls on both) and reports, in
``extra_info``, the per-round seconds, the ratio of the medians (``ratio``: the peer's cost
over ours, so above 1 means we are faster), the target and whether it was met.
``python -m bench benchmarks`` shows these groups first.

A benchmark that measured passes: a missed target is a "Met: no" row in BENCHMARKS.md and a
``TargetNotMet`` warning, never a failure, since it depends on the CPU it ran on. With
``--benchmark-strict`` (or ``MNIST_BENCH_STRICT=1``) a miss fails and an inconclusive verdict
skips, its numbers kept in the JSON either way.

1. The fast CNN: median training time to 99% on the validation split and mean test accuracy
   over five seeds, for cnn_fast (Keras; peer: the same network and schedule through a bare
   ``model.fit`` on NumPy arrays) and torch_fast (native PyTorch; peer: a bare PyTorch loop).
2. article_cnn at the tutorial's exact math: steady training images/s against a bare
   ``model.fit`` of the same model, at the peer's epochs that kept both cores busy, with the
   ratio of total seconds, stalls included, beside it (measured and reported; its old target,
   2a, 1.5x, is retired: out of reach at the tutorial's math on these CPUs, docs/speed.md);
   and a whole run through the trainer whose wall time is within 1.10x of its epochs,
   evaluation and measurement (2b).
3. logreg: fit time against scikit-learn's own MNIST benchmark recipe (target at most 1.5x)
   and test accuracy (target 92.0%).
4. Measurement costs: the matmul peak probe (target 2 s) and ``bench list`` (target 1.5 s).

In CI's quick mode (``--benchmark-disable``) every body runs once on small inputs and only
checks that each path works; the targets are judged on full runs.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from targets import TargetNotMet, settle

from bench.data import Dataset
from bench.data.split import validation_split

REPO = Path(__file__).resolve().parents[2]
VALIDATION_IMAGES = 5000
CNN_FAST_SEEDS = 5
CNN_FAST_TARGET_SECONDS = 2.5
CNN_FAST_TARGET_ACCURACY = 0.990
ARTICLE_TRAIN_IMAGES = 9_600  # 300 steps of 32
ARTICLE_ROUNDS = 8
ARTICLE_EPOCHS = 3  # the first builds the graph; the other two are timed
BUSY_CORES = 1.25  # an epoch using fewer (CPU over wall seconds) left a core idle
ARTICLE_RETIRED_RATIO = 1.5  # target 2a, retired: shown in the row, never judged
ARTICLE_RUN_TRAIN_IMAGES = 12_000
ARTICLE_RUN_ROUNDS = 3
ARTICLE_TARGET_WALL_RATIO = 1.10
LOGREG_ROUNDS = 5
LOGREG_TARGET_RATIO = 1.5
LOGREG_TARGET_ACCURACY = 0.920
SKLEARN_RECIPE = {"solver": "sag", "tol": 0.1, "C": 1e4}
PEAK_TARGET_SECONDS = 2.0
LIST_TARGET_SECONDS = 1.5
LIST_ROUNDS = 5
Peer = Callable[[int, tuple[np.ndarray, ...]], dict[str, Any]]


def rotating(runners: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[Any]]:
    """Call every runner once per round, the order rotated by one each round."""
    results: dict[str, list[Any]] = {label: [] for label in runners}
    labels = list(runners)
    for index in range(rounds):
        shift = index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            results[label].append(runners[label]())
    return results


def ratio_interval(ratios: list[float]) -> list[float]:
    """The 95% t-interval of the mean logarithm of per-round ratios, back on the ratio scale
    (``[low, high]``); empty below two ratios."""
    from bench.results.stats.intervals import t_interval

    interval = t_interval([math.log(r) for r in ratios])
    if interval is None:
        return []
    return [round(math.exp(interval.low), 3), round(math.exp(interval.high), 3)]


def judge_ratio(ratios: list[float], threshold: float) -> tuple[bool | None, list[float]]:
    """Whether per-round ratios (peer cost / ours) clear ``threshold``: True when the 95%
    t-interval of their mean logarithm lies above it, False when below, None when it
    straddles it (the machine too noisy to say). Also returns that interval."""
    interval = ratio_interval(ratios)
    if not interval:
        return None, []
    low, high = interval
    verdict = True if low >= threshold else False if high < threshold else None
    return verdict, interval


def test_a_missed_target_fails_only_when_strict() -> None:
    """The verdict logic: a forced miss warns by default, fails under --benchmark-strict; an
    inconclusive verdict warns or skips; a met target does neither."""
    settle(True, "met", strict=True)
    with pytest.warns(TargetNotMet, match="target missed: 2.9 s > 2.5 s"):
        settle(False, "2.9 s > 2.5 s", strict=False)
    with pytest.raises(pytest.fail.Exception, match="target missed: 2.9 s > 2.5 s"):
        settle(False, "2.9 s > 2.5 s", strict=True)
    with pytest.warns(TargetNotMet, match="inconclusive"):
        settle(None, "CI [1.4, 1.6]", strict=False)
    with pytest.raises(pytest.skip.Exception, match="inconclusive on this machine: CI"):
        settle(None, "CI [1.4, 1.6]", strict=True)
    assert judge_ratio([1.2, 1.3, 1.25], 1.5)[0] is False
    assert judge_ratio([1.6, 1.7, 1.65], 1.5)[0] is True
    assert judge_ratio([1.0, 2.2], 1.5)[0] is None


def report(benchmark: Any, target: str, met: bool | None, **numbers: Any) -> None:
    """Put the target, whether it was met and the numbers into the JSON."""
    rounded = {
        key: round(value, 4) if isinstance(value, float) else value
        for key, value in numbers.items()
    }
    benchmark.extra_info.update({"target": target, **rounded, "target_met": met})


def median_time(seconds: list[float | None]) -> float | None:
    """Median of times to a target over seeds, a seed that never reached it counting as
    slower than all: None when half or more never reached it."""
    ordered = sorted(math.inf if s is None else s for s in seconds)
    middle = statistics.median(ordered)
    return None if math.isinf(middle) or math.isnan(middle) else float(middle)


def rounded(seconds: float | None) -> float | None:
    """Seconds to two decimals; None stays None (a target never reached)."""
    return None if seconds is None else round(seconds, 2)


@pytest.fixture(scope="module")
def split(mnist: Dataset) -> Any:
    """The fixed validation split every model of the race uses."""
    return validation_split(mnist.x_train, mnist.y_train, VALIDATION_IMAGES)


# 1. cnn_fast ------------------------------------------------------------------------------


def fast_cnn_ours(model: str, seed: int, data: tuple[np.ndarray, ...]) -> dict[str, float | None]:
    """Train ``model`` through its adapter as ``bench run`` does; time to 99% and test
    accuracy."""
    from bench.measure.timing import time_to_accuracy
    from bench.models.family import adapter_class, make_adapter
    from bench.models.registry import get_model
    from bench.run.trainer import checks_per_epoch

    spec = get_model(model)
    x, y, x_val, y_val, x_test, y_test = data
    config = dict(spec.config)
    adapter_class(spec).seed_framework(seed, False)
    adapter = make_adapter(spec, config, tuple(x.shape[1:]), 10, seed=seed)
    fit = adapter.fit(x, y, x_val, y_val, None, checks_per_epoch(len(x)))
    accuracy = float(np.mean(adapter.predict_proba(x_test).argmax(axis=1) == y_test))
    reached = time_to_accuracy(fit.checks, (0.99,)).get("0.99")
    best = max(check["val_accuracy"] for check in fit.checks)
    return {"seconds_to_99": reached, "best_val": best, "test_accuracy": accuracy}


def cnn_fast_bare(seed: int, data: tuple[np.ndarray, ...]) -> dict[str, float | None]:
    """The same network, optimizer, loss and batch size through a bare ``model.fit`` on NumPy
    arrays (Keras' defaults: one batch per call), checked on the validation split at the same
    points and on the same clock by the adapter's recorder."""
    import keras
    import tensorflow as tf

    from bench.measure.timing import time_to_accuracy
    from bench.models.families._keras import EpochRecorder, forward_scores
    from bench.models.families._recorder import FitRecorder
    from bench.models.preprocess import one_hot
    from bench.models.registry import get_model
    from bench.run.trainer import checks_per_epoch

    spec = get_model("cnn_fast")
    x, y, x_val, y_val, _, _ = data
    config = dict(spec.config)
    batch_size, epochs = int(config["batch_size"]), int(config["epochs"])
    steps = math.ceil(len(x) / batch_size)
    keras.utils.set_random_seed(seed)
    model = spec.build(config, tuple(x.shape[1:]), 10)
    forward = tf.function(lambda images: model(images, training=False), reduce_retracing=True)
    start = time.perf_counter()
    model.compile(
        optimizer=spec.optimizer(config, steps), loss=spec.loss(config), metrics=["accuracy"]
    )
    recorder = FitRecorder(
        epochs,
        steps,
        lambda: forward_scores(forward, x_val, y_val),
        None,
        batch_size,
        start,
        checks_per_epoch(len(x)),
    )
    model.fit(
        x,
        one_hot(y, 10),
        batch_size=batch_size,
        epochs=epochs,
        callbacks=[EpochRecorder(recorder)],
        verbose=0,
    )
    reached = time_to_accuracy(recorder.checks, (0.99,)).get("0.99")
    return {"seconds_to_99": reached, "best_val": max(c["val_accuracy"] for c in recorder.checks)}


def torch_fast_bare(seed: int, data: tuple[np.ndarray, ...]) -> dict[str, float | None]:
    """torch_fast's network, optimizer, schedule, loss and batches in a bare PyTorch loop (no
    adapter, no per-epoch loss or accuracy kept), checked on the validation split at the same
    points and on the same clock by the adapter's recorder."""
    import torch

    from bench.measure.timing import time_to_accuracy
    from bench.models.families._recorder import FitRecorder
    from bench.models.registry import get_model
    from bench.run.trainer import checks_per_epoch

    spec = get_model("torch_fast")
    x, y, x_val, y_val, _, _ = data
    config = dict(spec.config)
    batch_size, epochs = int(config["batch_size"]), int(config["epochs"])
    steps = math.ceil(len(x) / batch_size)
    torch.manual_seed(seed)
    model = spec.build(config, tuple(x.shape[1:]), 10)
    validation = torch.as_tensor(x_val)

    def scores() -> tuple[float, float]:
        model.eval()
        with torch.inference_mode():
            predicted = torch.cat([model(part) for part in validation.split(1024)]).argmax(1)
        return float((predicted.numpy() == y_val).mean()), math.nan

    start = time.perf_counter()
    optimizer, scheduler = spec.optimizer(config, model.parameters(), steps)
    loss_fn = spec.loss(config)
    recorder = FitRecorder(epochs, steps, scores, None, batch_size, start, checks_per_epoch(len(x)))
    images, labels = torch.as_tensor(x), torch.as_tensor(y.astype(np.int64))
    generator = torch.Generator().manual_seed(seed)
    recorder.training_began()
    for epoch in range(epochs):
        recorder.epoch_began(epoch)
        order = torch.randperm(len(x), generator=generator)
        for step in range(steps):
            index = order[step * batch_size : (step + 1) * batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(images[index]), labels[index])
            loss.backward()
            optimizer.step()
            scheduler.step()
            if recorder.due_check(step + 1):
                recorder.steps_finished(step + 1)
                model.train()
        recorder.epoch_ended(epoch, float(loss), None)
        model.train()
    reached = time_to_accuracy(recorder.checks, (0.99,)).get("0.99")
    return {"seconds_to_99": reached, "best_val": max(c["val_accuracy"] for c in recorder.checks)}


def time_to_99(
    benchmark: Any,
    model: str,
    bare: Peer,
    split: Any,
    mnist: Dataset,
    quick: bool,
    strict: bool,
) -> None:
    """``model``: median time to 99% validation accuracy over five seeds and mean test
    accuracy, against the same recipe in its framework's bare loop, seed by seed, alternating."""
    from bench.models.registry import get_model

    spec = get_model(model)
    n_train = 5_000 if quick else len(split.x_train)
    data = (
        spec.preprocess(split.x_train[:n_train]),
        split.y_train[:n_train],
        spec.preprocess(split.x_val),
        split.y_val,
        spec.preprocess(mnist.x_test),
        mnist.y_test,
    )
    seeds = list(range(1 if quick else CNN_FAST_SEEDS))
    ours: list[dict[str, Any]] = []
    peer: list[dict[str, Any]] = []

    def one_round() -> None:
        for seed in seeds:  # alternate which of the two goes first
            if seed % 2 == 0:
                ours.append(fast_cnn_ours(model, seed, data))
                peer.append(bare(seed, data))
            else:
                peer.append(bare(seed, data))
                ours.append(fast_cnn_ours(model, seed, data))

    benchmark.pedantic(one_round, rounds=1)
    median_ours = median_time([r["seconds_to_99"] for r in ours])
    median_bare = median_time([r["seconds_to_99"] for r in peer])
    accuracy = statistics.fmean(r["test_accuracy"] for r in ours)
    met = (
        None
        if quick
        else bool(
            median_ours is not None
            and median_ours <= CNN_FAST_TARGET_SECONDS
            and accuracy >= CNN_FAST_TARGET_ACCURACY
        )
    )
    report(
        benchmark,
        f"median time to 99% <= {CNN_FAST_TARGET_SECONDS} s, mean test accuracy >= 99.0%",
        met,
        seeds=len(seeds),
        train_images=n_train,
        seconds_to_99=[rounded(r["seconds_to_99"]) for r in ours],
        seconds_to_99_median=median_ours,
        best_val_accuracy=[r["best_val"] for r in ours],
        peer_seconds_to_99=[rounded(r["seconds_to_99"]) for r in peer],
        peer_seconds_to_99_median=median_bare,
        peer_best_val_accuracy=[r["best_val"] for r in peer],
        ratio=None if not (median_ours and median_bare) else median_bare / median_ours,
        test_accuracy_mean=accuracy,
        load=os.getloadavg()[0],
    )
    if quick:
        assert 0.0 < accuracy <= 1.0
        return
    settle(
        met,
        f"{model}: median time to 99% {median_ours} s (None: fewer than half the seeds got "
        f"there), test accuracies {[r['test_accuracy'] for r in ours]}",
        strict,
    )


@pytest.mark.benchmark(group="target 1: cnn_fast time to 99% (validation)")
def test_cnn_fast_time_to_99(
    benchmark: Any, split: Any, mnist: Dataset, quick: bool, strict: bool
) -> None:
    """cnn_fast (Keras) against a bare ``model.fit`` of its recipe."""
    time_to_99(benchmark, "cnn_fast", cnn_fast_bare, split, mnist, quick, strict)


@pytest.mark.benchmark(group="target 1: torch_fast time to 99% (validation)")
def test_torch_fast_time_to_99(
    benchmark: Any, split: Any, mnist: Dataset, quick: bool, strict: bool
) -> None:
    """torch_fast (native PyTorch) against a bare PyTorch loop of its recipe."""
    pytest.importorskip("torch")
    time_to_99(benchmark, "torch_fast", torch_fast_bare, split, mnist, quick, strict)


# 2. article_cnn ---------------------------------------------------------------------------


class EpochClock:
    """A Keras callback that notes the wall and CPU clocks when training began and as each
    epoch ended."""

    def __new__(cls) -> Any:
        import keras

        class _Clock(keras.callbacks.Callback):
            def on_train_begin(self, logs: dict | None = None) -> None:
                self.marks = [(time.perf_counter(), time.process_time())]

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                self.marks.append((time.perf_counter(), time.process_time()))

        return _Clock()


Epochs = list[tuple[float, float]]  # (wall seconds, CPU seconds) of each steady epoch


def article_bare(x: np.ndarray, y: np.ndarray, epochs: int) -> Epochs:
    """Wall and CPU seconds of each epoch after the first of a bare ``model.fit`` of the
    article CNN on NumPy arrays."""
    import keras

    from bench.models.preprocess import one_hot
    from bench.models.registry import get_model

    spec = get_model("article_cnn")
    config = {**spec.config, "epochs": epochs}
    keras.utils.set_random_seed(0)
    model = spec.build(config, tuple(x.shape[1:]), 10)
    model.compile(
        optimizer=spec.optimizer(config, math.ceil(len(x) / 32)),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    clock = EpochClock()
    model.fit(x, one_hot(y, 10), batch_size=32, epochs=epochs, callbacks=[clock], verbose=0)
    return [(end[0] - begin[0], end[1] - begin[1]) for begin, end in pairwise(clock.marks[1:])]


def article_ours(
    x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, epochs: int
) -> Epochs:
    """Training seconds (validation excluded) of each epoch after the first through the Keras
    adapter, with the CPU seconds of that epoch (its end-of-epoch check included)."""
    from bench.models.family import adapter_class, make_adapter
    from bench.models.registry import get_model

    spec = get_model("article_cnn")
    config = {**spec.config, "epochs": epochs}
    adapter_class(spec).seed_framework(0, False)
    adapter = make_adapter(spec, config, tuple(x.shape[1:]), 10)
    cpu_marks: list[float] = []
    fit = adapter.fit(x, y, x_val, y_val, lambda entry: cpu_marks.append(time.process_time()), 1)
    assert fit.failure is None
    return [
        (float(entry.train_seconds), after - before)
        for entry, (before, after) in zip(fit.history[1:], pairwise(cpu_marks), strict=True)
    ]


def throughput_ratio(
    peer: list[Epochs], ours: list[Epochs], resamples: int = 2000
) -> tuple[float, list[float]]:
    """The peer's total seconds over ours (the ratio of training throughputs: the same images
    on both sides) and its 95% percentile bootstrap interval, resampling rounds in pairs."""
    peer_round = np.array([sum(wall for wall, _ in epochs) for epochs in peer])
    ours_round = np.array([sum(wall for wall, _ in epochs) for epochs in ours])
    picks = np.random.default_rng(0).integers(0, len(peer_round), (resamples, len(peer_round)))
    resampled = peer_round[picks].sum(axis=1) / ours_round[picks].sum(axis=1)
    low, high = np.percentile(resampled, [2.5, 97.5])
    return float(peer_round.sum() / ours_round.sum()), [round(low, 3), round(high, 3)]


def cores_in_use(epochs: list[Epochs]) -> list[float]:
    """CPU seconds over wall seconds of every epoch, round by round."""
    return [round(cpu / wall, 2) for round_epochs in epochs for wall, cpu in round_epochs]


def kept_cores_busy(wall: float, cpu: float) -> bool:
    """Whether an epoch used at least ``BUSY_CORES`` (CPU over wall seconds)."""
    return cpu / wall >= BUSY_CORES


def busy_round_ratios(peer: list[Epochs], ours: list[Epochs]) -> list[float]:
    """Per round, the peer's mean seconds over its epochs that kept both cores busy (at least
    ``BUSY_CORES`` in use) over our mean seconds: the steps against the steps. A round whose
    peer epochs all ran on one core is left out."""
    ratios = []
    for peer_epochs, our_epochs in zip(peer, ours, strict=True):
        busy = [wall for wall, cpu in peer_epochs if kept_cores_busy(wall, cpu)]
        if busy:
            ratios.append(statistics.mean(busy) / statistics.mean(w for w, _ in our_epochs))
    return ratios


def test_throughput_and_busy_epoch_ratios() -> None:
    """The throughput ratio is of total seconds, so a stalled peer epoch counts at its full
    length, and its interval holds it; the busy-epoch ratios leave that epoch out."""
    peer = [[(3.0, 5.0), (6.0, 5.0)], [(3.0, 5.0), (3.0, 5.0)], [(3.0, 5.0), (3.0, 5.0)]]
    ours = [[(2.0, 3.6), (2.0, 3.6)]] * 3
    ratio, (low, high) = throughput_ratio(peer, ours)
    assert ratio == pytest.approx(21.0 / 12.0)
    assert 1.5 <= low <= ratio <= high <= 2.25
    assert cores_in_use(peer[:1]) == [1.67, 0.83]
    # At busy epochs only, the stalled 6 s epoch is left out of its round.
    assert busy_round_ratios(peer, ours) == pytest.approx([1.5, 1.5, 1.5])


@pytest.mark.benchmark(group="target 2: article_cnn training throughput")
def test_article_cnn_throughput_against_bare_fit(benchmark: Any, split: Any, quick: bool) -> None:
    """The tutorial's model and math (batch 32, its SGD) through the adapter against a bare
    ``model.fit`` on NumPy arrays over the steady epochs (every epoch after the first), rounds
    alternating. The ratio is of the per-round ratios at the peer's epochs that kept both cores
    busy (its input pipeline stalls to one core in some epochs, more often in short fits like
    these than in the tutorial's long ones: docs/speed.md); the ratio of total seconds, stalls
    included, is reported beside it. Both are measured and reported, never judged: target 2a
    (1.5x) is retired, out of reach at the tutorial's math on these CPUs (docs/speed.md)."""
    from bench.models.registry import get_model

    spec = get_model("article_cnn")
    n_train = 960 if quick else ARTICLE_TRAIN_IMAGES
    x, y = spec.preprocess(split.x_train[:n_train]), split.y_train[:n_train]
    x_val, y_val = spec.preprocess(split.x_val[:1000]), split.y_val[:1000]
    rounds = 1 if quick else ARTICLE_ROUNDS
    times: dict[str, list[Epochs]] = {}

    def all_rounds() -> None:
        times.update(
            rotating(
                {
                    "ours": lambda: article_ours(x, y, x_val, y_val, ARTICLE_EPOCHS),
                    "bare": lambda: article_bare(x, y, ARTICLE_EPOCHS),
                },
                rounds,
            )
        )

    benchmark.pedantic(all_rounds, rounds=1)
    ours_walls = [wall for epochs in times["ours"] for wall, _ in epochs]
    peer_walls = [wall for epochs in times["bare"] for wall, _ in epochs]
    peer_cores = cores_in_use(times["bare"])
    busy_ratios = busy_round_ratios(times["bare"], times["ours"])
    interval = ratio_interval(busy_ratios)
    throughput, throughput_interval = throughput_ratio(times["bare"], times["ours"])
    report(
        benchmark,
        f"retired (2a was: steady training images/s >= {ARTICLE_RETIRED_RATIO}x a bare "
        "model.fit that keeps both cores busy); the ratio is reported, never judged",
        None,
        train_images=n_train,
        steps_per_execution=int(spec.config.get("steps_per_execution", 1)),
        ours_epoch_seconds=[round(t, 2) for t in ours_walls],
        peer_epoch_seconds=[round(t, 2) for t in peer_walls],
        ours_cores_in_use=cores_in_use(times["ours"]),
        peer_cores_in_use=peer_cores,
        peer_epochs_on_one_core=sum(
            not kept_cores_busy(*epoch) for epochs in times["bare"] for epoch in epochs
        ),
        ratio=statistics.geometric_mean(busy_ratios) if busy_ratios else None,
        round_ratios=[round(r, 3) for r in busy_ratios],
        ratio_ci95=interval,
        images_per_s=n_train * len(ours_walls) / sum(ours_walls),
        peer_images_per_s=n_train * len(peer_walls) / sum(peer_walls),
        throughput_ratio=throughput,
        throughput_ratio_ci95=throughput_interval,
        load=os.getloadavg()[0],
    )


@pytest.mark.benchmark(group="target 2: article_cnn training throughput")
def test_article_cnn_run_wall_time_is_accounted(
    benchmark: Any, mnist: Dataset, quick: bool, strict: bool
) -> None:
    """A whole article_cnn run through the trainer (one epoch on 12,000 images): its wall time
    is within 1.10x of its epochs + data + build + evaluation + measurement, i.e. nothing is
    lost inside ``fit`` after the last epoch. Several rounds: the loss seen earlier was
    intermittent (7-33 s in 5 of 12 runs, from a tf.data iterator's destructor)."""
    from bench.run.selection import build_runs
    from bench.run.trainer import execute_run

    (base,) = build_runs(["article_cnn"], ["mnist"], [0], ["epochs=1"])
    run = type(base)(
        **{
            **base.to_dict(),
            "limit_train": 960 if quick else ARTICLE_RUN_TRAIN_IMAGES,
            "limit_test": 500 if quick else None,
        }
    )
    records: list[Any] = []
    benchmark.pedantic(
        lambda: records.append(execute_run(run, mnist)),
        rounds=1 if quick else ARTICLE_RUN_ROUNDS,
    )
    ratios, after_last = [], []
    for record in records:
        assert record.status == "ok", record.error
        timings = record.timings
        phases = timings["phases"]
        epochs = sum(entry["seconds"] for entry in record.history)
        accounted = epochs + sum(s for name, s in phases.items() if name != "train")
        ratios.append(timings["clocks"]["wall_seconds"] / accounted)
        after_last.append(timings["clocks"]["fit_seconds"] - record.history[-1]["elapsed_seconds"])
        assert timings["memory"]["peak_rss_mb"] > 0
    met = max(ratios) <= ARTICLE_TARGET_WALL_RATIO
    report(
        benchmark,
        f"wall <= {ARTICLE_TARGET_WALL_RATIO}x epochs + data + build + evaluate + measure",
        met,
        runs=len(records),
        wall_ratios=[round(r, 3) for r in ratios],
        seconds_after_last_epoch=[round(s, 2) for s in after_last],
        peak_probe_seconds=[round(r.timings.get("peak_probe_seconds") or 0, 2) for r in records],
        peak_rss_mb=[round(r.timings["memory"]["peak_rss_mb"]) for r in records],
    )
    # CI's quick run keeps this one as a check: time lost after the last epoch is a bug in the
    # harness (a stalled iterator), not a slow CPU.
    settle(met, f"wall ratios {ratios}, seconds after the last epoch {after_last}", strict or quick)


# 3. logreg --------------------------------------------------------------------------------


def fit_seconds(estimator: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``estimator.fit(x, y)`` (convergence warnings silenced), and
    the fitted estimator."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(x, y)
    return time.perf_counter() - start, time.process_time() - cpu, estimator


@pytest.mark.benchmark(group="target 3: logreg against scikit-learn's MNIST recipe")
def test_logreg_against_sklearn_recipe(
    benchmark: Any, split: Any, mnist: Dataset, quick: bool, strict: bool
) -> None:
    """Our logreg (its registered defaults) and ``LogisticRegression(solver="sag", tol=0.1,
    C=1e4)`` on pixels/255, fitted alternately on the same training images; fit time ratio
    (judged on CPU seconds, wall seconds reported beside) and test accuracy."""
    from sklearn.linear_model import LogisticRegression

    from bench.models.registry import get_model

    spec = get_model("logreg")
    n_train = 2_000 if quick else len(split.x_train)
    x, y = spec.preprocess(split.x_train[:n_train]), split.y_train[:n_train]
    x_test = spec.preprocess(mnist.x_test)
    results: dict[str, list[tuple[float, float, Any]]] = {}

    def ours() -> tuple[float, float, Any]:
        estimator = spec.build(dict(spec.config), tuple(x.shape[1:]), 10)
        if "random_state" in estimator.get_params():
            estimator.set_params(random_state=0)  # as the adapter seeds it for seed 0
        return fit_seconds(estimator, x, y)

    def recipe() -> tuple[float, float, Any]:
        return fit_seconds(LogisticRegression(random_state=0, **SKLEARN_RECIPE), x, y)

    rounds = 1 if quick else LOGREG_ROUNDS
    benchmark.pedantic(
        lambda: results.update(rotating({"ours": ours, "recipe": recipe}, rounds)), rounds=1
    )
    ours_seconds = [wall for wall, _, _ in results["ours"]]
    recipe_seconds = [wall for wall, _, _ in results["recipe"]]
    cpu_ratio = statistics.median(c for _, c, _ in results["recipe"]) / statistics.median(
        c for _, c, _ in results["ours"]
    )
    accuracy = float(results["ours"][-1][2].score(x_test, mnist.y_test))
    recipe_accuracy = float(results["recipe"][-1][2].score(x_test, mnist.y_test))
    # Both solvers run on one core: their CPU time is what their wall time is on an idle
    # machine, and it does not swing with other processes' load as the wall time does.
    ratios = [r[1] / o[1] for r, o in zip(results["recipe"], results["ours"], strict=True)]
    verdict, interval = judge_ratio(ratios, 1 / LOGREG_TARGET_RATIO)
    fast_enough = verdict if rounds > 1 else None
    met = False if accuracy < LOGREG_TARGET_ACCURACY else fast_enough
    report(
        benchmark,
        f"fit time <= {LOGREG_TARGET_RATIO}x the recipe's "
        f"(ratio >= {1 / LOGREG_TARGET_RATIO:.2f}), test accuracy >= 92.0%",
        None if quick else met,
        train_images=n_train,
        config=str(spec.config),
        ours_seconds=[round(s, 2) for s in ours_seconds],
        peer_seconds=[round(s, 2) for s in recipe_seconds],
        ratio=cpu_ratio,
        cpu_ratio_ci95=interval,
        wall_ratio=statistics.median(recipe_seconds) / statistics.median(ours_seconds),
        test_accuracy=accuracy,
        peer_test_accuracy=recipe_accuracy,
        load=os.getloadavg()[0],
    )
    if not quick:
        message = f"test accuracy {accuracy:.4f}, recipe/ours CPU-time ratios {ratios}"
        settle(met, f"{message}, 95% CI {interval}", strict)


# 4. Measurement costs ---------------------------------------------------------------------


@pytest.mark.benchmark(group="target 4: measurement costs")
def test_peak_probe_cost(benchmark: Any, quick: bool, strict: bool) -> None:
    """The matmul peak probe, measured afresh (cache cleared): float32, and bfloat16 on CPUs
    with bfloat16 units, as a bf16 run pays both."""
    from bench.measure import peak
    from bench.measure.environment import cpu_flags

    dtypes = ["float32"]
    if {"avx512_bf16", "amx_bf16"} & set(cpu_flags()):
        dtypes.append("bfloat16")
    rounds: list[dict[str, tuple[float, float]]] = []

    def probe_all() -> None:
        saved = dict(peak._CACHE)
        peak._CACHE.clear()
        seconds = {}
        try:
            for dtype in dtypes:
                start, cpu = time.perf_counter(), time.process_time()
                peak.matmul_peak(dtype)
                seconds[dtype] = (time.perf_counter() - start, time.process_time() - cpu)
        finally:
            peak._CACHE.clear()
            peak._CACHE.update(saved)
        rounds.append(seconds)

    benchmark.pedantic(probe_all, rounds=1 if quick else 3)
    # The least disturbed round, as the probe itself keeps its best repeat: another process
    # can only make a round slower.
    best = min(rounds, key=lambda r: sum(wall for wall, _ in r.values()))
    total = sum(wall for wall, _ in best.values())
    report(
        benchmark,
        f"all probes of a run <= {PEAK_TARGET_SECONDS} s",
        total <= PEAK_TARGET_SECONDS,
        **{f"{dtype}_seconds": wall for dtype, (wall, _) in best.items()},
        **{f"{dtype}_cpu_seconds": cpu for dtype, (_, cpu) in best.items()},
        round_seconds=[round(sum(w for w, _ in r.values()), 2) for r in rounds],
        load=os.getloadavg()[0],
    )
    if not quick:
        settle(total <= PEAK_TARGET_SECONDS, f"probe seconds per round {rounds}", strict)


def command_seconds(arguments: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one ``python ARGS`` child process."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *arguments],
        cwd=REPO,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


@pytest.mark.benchmark(group="target 4: measurement costs")
def test_bench_list_cost(benchmark: Any, quick: bool, strict: bool) -> None:
    """``python -m bench list`` on the committed results (parameter counts read from records,
    TensorFlow not imported), against a bare interpreter that imports NumPy."""
    results: dict[str, list[tuple[float, float]]] = {}
    rounds = 1 if quick else LIST_ROUNDS

    def all_rounds() -> None:
        results.update(
            rotating(
                {
                    "list": lambda: command_seconds(["-m", "bench", "list"]),
                    "numpy": lambda: command_seconds(["-c", "import numpy"]),
                },
                rounds,
            )
        )

    benchmark.pedantic(all_rounds, rounds=1)
    wall = statistics.median(w for w, _ in results["list"])
    cpu = statistics.median(c for _, c in results["list"])
    report(
        benchmark,
        f"bench list <= {LIST_TARGET_SECONDS} s",
        wall <= LIST_TARGET_SECONDS,
        wall_seconds=wall,
        cpu_seconds=cpu,
        peer_wall_seconds=statistics.median(w for w, _ in results["numpy"]),
        peer_cpu_seconds=statistics.median(c for _, c in results["numpy"]),
        load=os.getloadavg()[0],
    )
    if not quick:
        settle(wall <= LIST_TARGET_SECONDS, f"(wall, CPU) seconds per round {results}", strict)
