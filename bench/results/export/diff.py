"""Two results folders side by side: accuracy differences, speed ratios, machines, libraries.

Pure functions over lists of :class:`RunRecord` (the command reads the folders). For every
(model label, dataset) with ok records on both sides:

* accuracy: the mean over seeds on each side and the difference B - A with a Welch
  t-interval over seeds (unequal variances; ``scipy.stats.ttest_ind(equal_var=False)``), which
  needs two or more seeds on each side;
* speed: the median over seeds of training samples/s, inference samples/s and single-image
  p50 latency on each side, and B's speed-up over A (B/A for throughputs, A/B for latency, so
  above 1 always means B is faster);
* whether both sides ran the same configuration (config hash, which includes the model code).

Machines (CPU model, cores, platform, Python) and library versions are listed side by side.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from bench.results.stats.intervals import (
    CONFIDENCE,
    NO_SPREAD,
    WELCH_METHOD,
    Interval,
    welch_difference,
)
from bench.results.store.record import RunRecord

MACHINE_FIELDS = (
    ("cpu_model", "CPU model"),
    ("logical_cores", "logical cores"),
    ("usable_cores", "usable cores"),
    ("platform", "platform"),
    ("python", "Python"),
    ("hostname", "host"),
)


@dataclass(frozen=True)
class PairDiff:
    """One (model label, dataset) present in both folders."""

    label: str
    dataset: str
    seeds_a: list[int]
    seeds_b: list[int]
    accuracy_a: float
    accuracy_b: float
    accuracy: Interval | None
    """B - A with its interval over seeds; None below two seeds on a side."""
    same_config: bool
    train_samples_per_s_a: float | None
    train_samples_per_s_b: float | None
    train_speedup: float | None
    inference_samples_per_s_a: float | None
    inference_samples_per_s_b: float | None
    inference_speedup: float | None
    latency_p50_ms_a: float | None
    latency_p50_ms_b: float | None
    latency_speedup: float | None


@dataclass(frozen=True)
class ResultsDiff:
    """Everything ``bench diff`` reports."""

    name_a: str
    name_b: str
    runs_a: int
    runs_b: int
    pairs: list[PairDiff]
    only_a: list[str]
    only_b: list[str]
    machines: list[tuple[str, str, str]]
    libraries: list[tuple[str, str, str]]
    confidence: float = CONFIDENCE
    method: str = WELCH_METHOD
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``bench diff --json``)."""
        data = asdict(self)
        data["machines"] = [
            dict(zip(("field", "a", "b"), row, strict=True)) for row in self.machines
        ]
        data["libraries"] = [
            dict(zip(("library", "a", "b"), row, strict=True)) for row in self.libraries
        ]
        return data


def diff_records(
    records_a: Sequence[RunRecord],
    records_b: Sequence[RunRecord],
    *,
    name_a: str = "A",
    name_b: str = "B",
    confidence: float = CONFIDENCE,
) -> ResultsDiff:
    """Compare the ok records of two folders (pass the current ones: see
    :func:`bench.results.store.stale.current_records`)."""
    groups_a, groups_b = _groups(records_a), _groups(records_b)
    pairs = [
        _pair(key, groups_a[key], groups_b[key], confidence)
        for key in sorted(set(groups_a) & set(groups_b), key=lambda k: (k[1], k[0]))
    ]
    ok_a = [r for r in records_a if r.ok]
    ok_b = [r for r in records_b if r.ok]
    return ResultsDiff(
        name_a=name_a,
        name_b=name_b,
        runs_a=len(ok_a),
        runs_b=len(ok_b),
        pairs=pairs,
        only_a=[
            f"{label} on {dataset}" for label, dataset in sorted(set(groups_a) - set(groups_b))
        ],
        only_b=[
            f"{label} on {dataset}" for label, dataset in sorted(set(groups_b) - set(groups_a))
        ],
        machines=[
            (
                title,
                _values(ok_a, partial(_environment_value, key=key)),
                _values(ok_b, partial(_environment_value, key=key)),
            )
            for key, title in MACHINE_FIELDS
        ],
        libraries=_libraries(ok_a, ok_b),
        confidence=confidence,
    )


def _groups(records: Sequence[RunRecord]) -> dict[tuple[str, str], list[RunRecord]]:
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        if record.ok:
            groups.setdefault((record.label, record.dataset), []).append(record)
    return {key: sorted(group, key=lambda r: r.seed) for key, group in groups.items()}


def _pair(
    key: tuple[str, str], a: list[RunRecord], b: list[RunRecord], confidence: float
) -> PairDiff:
    accuracy_a = [r.accuracy for r in a]
    accuracy_b = [r.accuracy for r in b]
    train_a, train_b = _median(a, "train_samples_per_s"), _median(b, "train_samples_per_s")
    infer_a, infer_b = _median(a, "inference_samples_per_s"), _median(b, "inference_samples_per_s")
    lat_a, lat_b = _median(a, "latency_p50_ms"), _median(b, "latency_p50_ms")
    return PairDiff(
        label=key[0],
        dataset=key[1],
        seeds_a=[r.seed for r in a],
        seeds_b=[r.seed for r in b],
        accuracy_a=statistics.fmean(accuracy_a),
        accuracy_b=statistics.fmean(accuracy_b),
        accuracy=welch_difference(accuracy_a, accuracy_b, confidence),
        same_config={r.config_hash for r in a} == {r.config_hash for r in b},
        train_samples_per_s_a=train_a,
        train_samples_per_s_b=train_b,
        train_speedup=_ratio(train_b, train_a),
        inference_samples_per_s_a=infer_a,
        inference_samples_per_s_b=infer_b,
        inference_speedup=_ratio(infer_b, infer_a),
        latency_p50_ms_a=lat_a,
        latency_p50_ms_b=lat_b,
        latency_speedup=_ratio(lat_a, lat_b),
    )


def _median(records: Sequence[RunRecord], attribute: str) -> float | None:
    values = [getattr(r, attribute) for r in records]
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return statistics.median(numbers) if numbers else None


def _ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or bottom is None or bottom == 0:
        return None
    return top / bottom


def _environment_value(record: RunRecord, key: str) -> Any:
    return record.environment.get(key)


def _values(records: Sequence[RunRecord], read: Callable[[RunRecord], Any]) -> str:
    """The distinct values over ``records``: ``v`` or ``v1 (3 runs), v2 (1 run)``."""
    counts = Counter(str(read(r)) for r in records if read(r) not in (None, ""))
    if not counts:
        return "-"
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{v} ({n} run{'s' * (n > 1)})" for v, n in counts.most_common())


def _libraries(a: Sequence[RunRecord], b: Sequence[RunRecord]) -> list[tuple[str, str, str]]:
    names: dict[str, None] = {}
    for record in [*a, *b]:
        names.update(dict.fromkeys((record.environment.get("libraries") or {}).keys()))

    def version(name: str) -> Callable[[RunRecord], Any]:
        return lambda r: (r.environment.get("libraries") or {}).get(name)

    return [(name, _values(a, version(name)), _values(b, version(name))) for name in names]


# --- markdown ---------------------------------------------------------------------------------


def to_markdown(diff: ResultsDiff) -> str:
    """The diff as markdown: accuracy, speed, machines, libraries, models on one side only."""
    from tabulate import tabulate

    level = f"{diff.confidence:.0%}"
    lines = [
        f"# Results diff: A = {diff.name_a} ({_runs(diff.runs_a)}), "
        f"B = {diff.name_b} ({_runs(diff.runs_b)})",
        "",
        f"Accuracy: mean over seeds; B - A in percentage points with a {level} {diff.method} "
        "(needs 2+ seeds on each side). Speed: medians over seeds; speed-up of B over A "
        "(B/A for samples/s, A/B for latency), above 1 means B is faster.",
        "",
    ]
    if diff.pairs:
        accuracy_rows = [
            [
                p.label,
                p.dataset,
                len(p.seeds_a),
                len(p.seeds_b),
                f"{p.accuracy_a:.2%}",
                f"{p.accuracy_b:.2%}",
                f"{100 * (p.accuracy_b - p.accuracy_a):+.2f}",
                _interval_text(p.accuracy),
                "yes" if p.same_config else "no",
            ]
            for p in diff.pairs
        ]
        headers = ["model", "dataset", "seeds A", "seeds B", "accuracy A", "accuracy B"]
        headers += ["B - A (pp)", f"{level} interval (pp)", "same config"]
        lines += [
            "## Accuracy",
            "",
            tabulate(accuracy_rows, headers, tablefmt="github", disable_numparse=True),
            "",
        ]
        speed_rows = [
            [
                p.label,
                p.dataset,
                _num(p.train_samples_per_s_a),
                _num(p.train_samples_per_s_b),
                _times(p.train_speedup),
                _num(p.inference_samples_per_s_a),
                _num(p.inference_samples_per_s_b),
                _times(p.inference_speedup),
                _num(p.latency_p50_ms_a, ".3f"),
                _num(p.latency_p50_ms_b, ".3f"),
                _times(p.latency_speedup),
            ]
            for p in diff.pairs
        ]
        headers = ["model", "dataset", "train/s A", "train/s B", "speed-up"]
        headers += ["infer/s A", "infer/s B", "speed-up", "p50 ms A", "p50 ms B", "speed-up"]
        lines += [
            "## Speed",
            "",
            tabulate(speed_rows, headers, tablefmt="github", disable_numparse=True),
            "",
        ]
    else:
        lines += ["No (model, dataset) has ok runs in both folders.", ""]
    lines += [
        "## Machines",
        "",
        tabulate(
            [list(row) for row in diff.machines],
            ["", "A", "B"],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
    ]
    if diff.libraries:
        rows = [[*row, "" if row[1] == row[2] else "differs"] for row in diff.libraries]
        table = tabulate(rows, ["library", "A", "B", ""], tablefmt="github", disable_numparse=True)
        lines += ["## Libraries", "", table, ""]
    for side, labels in ((f"A ({diff.name_a})", diff.only_a), (f"B ({diff.name_b})", diff.only_b)):
        if labels:
            lines += [f"Only in {side}: {', '.join(labels)}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _runs(count: int) -> str:
    return f"{count} ok run{'s' * (count != 1)}"


def _interval_text(interval: Interval | None) -> str:
    if interval is None:
        return "n/a (needs 2+ seeds on each side)"
    text = f"[{100 * interval.low:+.2f}, {100 * interval.high:+.2f}]"
    return f"{text} ({NO_SPREAD})" if interval.method == NO_SPREAD else text


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return "-" if value is None else format(value, fmt)


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"
