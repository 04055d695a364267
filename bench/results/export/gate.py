"""A regression gate: ``--fail-if "accuracy<-0.2,train_speed<0.9x"`` over a comparison A -> B.

Grammar (spaces are ignored; docs/gate.md has the reference):

    RULES  = RULE { "," RULE }
    RULE   = METRIC ( "<" | ">" ) NUMBER [ "x" ]

A number with ``x`` is a ratio B / A (``train_speed<0.9x``: B trains at under 0.9 times A's
speed); without it, a difference B - A in the metric's unit (accuracy in percentage points:
``accuracy<-0.2`` is a drop of more than 0.2 points).

A rule fails a row only when the row's seed-level interval lies wholly beyond the threshold:
the same 95% Welch t-interval over seeds that ``bench diff`` reports (on the logarithms for a
ratio, so its ends are ratios of geometric means). Where the threshold lies inside the
interval, the row is "within noise" and does not fail. A side with a single value (one seed,
a deterministic model, a benchmark saved without its rounds) has no interval: then the point
estimate decides, and the row says so.

Pure functions: the commands read folders and files, this module parses, judges and renders.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard

from bench.core.errors import BenchError
from bench.results.stats.intervals import welch_difference
from bench.results.store.record import RunRecord

FAILED, WITHIN_NOISE, PASSED, NOT_MEASURED = "failed", "within noise", "passed", "not measured"
_RULE = re.compile(
    r"^(?P<metric>[A-Za-z_][A-Za-z0-9_]*)(?P<op>[<>])(?P<number>[-+]?[0-9.eE+-]+)(?P<x>x?)$"
)


@dataclass(frozen=True)
class RecordMetric:
    """A per-run number the gate can judge in ``bench diff``."""

    read: Callable[[RunRecord], float | None]
    unit: str  # the unit of a difference B - A
    scale: float = 1.0  # record value -> unit (a fraction -> percentage points)


RECORD_METRICS: dict[str, RecordMetric] = {
    "accuracy": RecordMetric(lambda r: r.accuracy, "pp", 100.0),
    "train_speed": RecordMetric(lambda r: r.train_samples_per_s, "images/s"),
    "inference_speed": RecordMetric(lambda r: r.inference_samples_per_s, "images/s"),
    "latency_p50": RecordMetric(lambda r: r.latency_p50_ms, "ms"),
}


@dataclass(frozen=True)
class Rule:
    """One clause of ``--fail-if``: ``metric op threshold`` (a ratio B/A when ``ratio``)."""

    metric: str
    op: str
    threshold: float
    ratio: bool
    text: str

    def beyond(self, value: float) -> bool:
        """Whether ``value`` lies on the failing side of the threshold."""
        return value < self.threshold if self.op == "<" else value > self.threshold


@dataclass(frozen=True)
class Check:
    """One rule applied to one row (a model on a dataset, or one benchmark)."""

    row: str
    rule: str
    estimate: float | None
    low: float | None
    high: float | None
    values_a: int
    values_b: int
    verdict: str
    note: str = ""


@dataclass(frozen=True)
class GateResult:
    """Every check of a gate, with the rules as given."""

    rules: list[str]
    checks: list[Check]
    over: str = "seeds"  # what the intervals' values are: seeds (runs) or rounds (benchmarks)

    @property
    def failed(self) -> list[Check]:
        """The checks whose interval (or, with one value a side, point) is beyond the line."""
        return [c for c in self.checks if c.verdict == FAILED]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "rules": self.rules,
            "interval": f"95% Welch t-interval over {self.over}",
            "failed": len(self.failed),
            "checks": [asdict(check) for check in self.checks],
        }


def parse_rules(text: str, metrics: Iterable[str] | None = None) -> list[Rule]:
    """Parse ``--fail-if`` text into rules; a BenchError (exit 2) says what is wrong.

    ``metrics``: the metric names this comparison knows (None: any name).

    Example
    -------
    >>> rules = parse_rules("accuracy<-0.2, latency_p50>1.1x")
    >>> [(r.metric, r.op, r.threshold, r.ratio) for r in rules]
    [('accuracy', '<', -0.2, False), ('latency_p50', '>', 1.1, True)]
    """
    known = None if metrics is None else sorted(metrics)
    clauses = [clause.replace(" ", "") for clause in str(text).split(",")]
    if not any(clauses):
        raise BenchError(f"--fail-if is empty; {_GRAMMAR}")
    rules = []
    for clause in clauses:
        match = _RULE.match(clause)
        if not clause or match is None:
            raise BenchError(f"--fail-if: cannot read {clause!r}; {_GRAMMAR}")
        metric = match["metric"]
        if known is not None and metric not in known:
            raise BenchError(
                f"--fail-if: unknown metric {metric!r} in {clause!r}; known here: "
                f"{', '.join(known)}"
            )
        try:
            threshold = float(match["number"])
        except ValueError:
            raise BenchError(
                f"--fail-if: {match['number']!r} in {clause!r} is not a number; {_GRAMMAR}"
            ) from None
        ratio = match["x"] == "x"
        if not math.isfinite(threshold) or (ratio and threshold <= 0):
            raise BenchError(
                f"--fail-if: {clause!r}: a ratio threshold must be a positive number "
                "(1.1x: B at 1.1 times A)"
                if ratio
                else f"--fail-if: {clause!r}: the threshold must be a finite number"
            )
        rules.append(Rule(metric, match["op"], threshold, ratio, clause))
    return rules


_GRAMMAR = (
    "expected comma-separated rules METRIC<NUMBER or METRIC>NUMBER, a trailing x for a "
    'ratio B/A, e.g. "accuracy<-0.2,train_speed<0.9x,latency_p50>1.1x" (docs/gate.md)'
)


def judge(row: str, rule: Rule, values_a: Sequence[float], values_b: Sequence[float]) -> Check:
    """Apply ``rule`` to one row's per-seed (or per-round) values of A and B.

    A difference uses the values as given; a ratio works on their logarithms and reports the
    ratio of geometric means. The interval is ``bench diff``'s Welch t-interval over seeds.
    """
    a = [float(v) for v in values_a if _finite(v)]
    b = [float(v) for v in values_b if _finite(v)]
    unmeasured = None
    if not a or not b:
        unmeasured = f"no {rule.metric} on side {'A' if not a else 'B'}"
    elif rule.ratio and min(a + b) <= 0:
        unmeasured = "a ratio needs positive values"
    if unmeasured:
        return Check(row, rule.text, None, None, None, len(a), len(b), NOT_MEASURED, unmeasured)
    if rule.ratio:
        a, b = [math.log(v) for v in a], [math.log(v) for v in b]
    estimate = statistics.fmean(b) - statistics.fmean(a)
    interval = welch_difference(a, b)
    low = None if interval is None else interval.low
    high = None if interval is None else interval.high
    to_scale = math.exp if rule.ratio else float
    estimate = to_scale(estimate)
    if low is None or high is None:
        verdict = FAILED if rule.beyond(estimate) else PASSED
        return Check(
            row,
            rule.text,
            estimate,
            None,
            None,
            len(a),
            len(b),
            verdict,
            "point estimate: one value on a side, no interval",
        )
    low, high = to_scale(low), to_scale(high)
    # The interval's end nearest the threshold decides: all of it must lie beyond the line.
    nearest = high if rule.op == "<" else low
    if rule.beyond(nearest):
        verdict = FAILED
    elif rule.beyond(estimate):
        verdict = WITHIN_NOISE
    else:
        verdict = PASSED
    return Check(row, rule.text, estimate, low, high, len(a), len(b), verdict)


def gate_records(
    records_a: Sequence[RunRecord], records_b: Sequence[RunRecord], rules: Sequence[Rule]
) -> GateResult:
    """Judge every (model label, dataset) with ok runs on both sides against every rule."""
    groups_a, groups_b = _groups(records_a), _groups(records_b)
    checks = []
    for key in sorted(set(groups_a) & set(groups_b), key=lambda k: (k[1], k[0])):
        row = f"{key[0]} on {key[1]}"
        for rule in rules:
            metric = RECORD_METRICS[rule.metric]
            scale = 1.0 if rule.ratio else metric.scale
            checks.append(
                judge(
                    row,
                    rule,
                    _values(groups_a[key], metric.read, scale),
                    _values(groups_b[key], metric.read, scale),
                )
            )
    return GateResult([r.text for r in rules], checks)


def _groups(records: Sequence[RunRecord]) -> dict[tuple[str, str], list[RunRecord]]:
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        if record.ok:
            groups.setdefault((record.label, record.dataset), []).append(record)
    return groups


def _values(
    records: Sequence[RunRecord], read: Callable[[RunRecord], float | None], scale: float
) -> list[float]:
    return [scale * float(v) for v in (read(r) for r in records) if _finite(v)]


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- pytest-benchmark files -------------------------------------------------------------------

BENCHMARK_TIME = "time"


def benchmark_metrics(*documents: dict[str, Any]) -> set[str]:
    """The metric names a benchmark gate knows: ``time`` (seconds per call) and every numeric
    ``extra_info`` key of the given pytest-benchmark JSON documents."""
    names = {BENCHMARK_TIME}
    for document in documents:
        for bench in document.get("benchmarks", []):
            names.update(k for k, v in (bench.get("extra_info") or {}).items() if _finite(v))
    return names


def gate_benchmarks(old: dict[str, Any], new: dict[str, Any], rules: Sequence[Rule]) -> GateResult:
    """Judge every benchmark present in both JSON documents (A = ``old``, B = ``new``).

    ``time`` is the time per call: its per-round times when the files hold them
    (``--benchmark-save-data``), so the interval is over rounds; else the median alone (a
    point estimate). An ``extra_info`` number is one value per file (a point estimate).
    """
    old_by_name, new_by_name = _by_name(old), _by_name(new)
    checks = []
    for name in sorted(set(old_by_name) & set(new_by_name)):
        for rule in rules:
            checks.append(
                judge(
                    name,
                    rule,
                    _benchmark_values(old_by_name[name], rule.metric),
                    _benchmark_values(new_by_name[name], rule.metric),
                )
            )
    return GateResult([r.text for r in rules], checks, over="rounds")


def _by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b.get("fullname") or b["name"]: b for b in document.get("benchmarks", [])}


def _benchmark_values(bench: dict[str, Any], metric: str) -> list[float]:
    if metric == BENCHMARK_TIME:
        stats = bench.get("stats") or {}
        rounds = stats.get("data")
        if isinstance(rounds, list) and len(rounds) > 1:
            return [float(v) for v in rounds if _finite(v)]
        return [float(stats["median"])] if _finite(stats.get("median")) else []
    value = (bench.get("extra_info") or {}).get(metric)
    return [float(value)] if _finite(value) else []


# --- text -------------------------------------------------------------------------------------


def to_markdown(result: GateResult) -> str:
    """The gate's verdict: how many checks failed, then a table of the failed ones (and of
    those within noise, which did not fail)."""
    from tabulate import tabulate

    counts = {
        v: sum(c.verdict == v for c in result.checks)
        for v in (FAILED, WITHIN_NOISE, PASSED, NOT_MEASURED)
    }
    head = "FAILED" if result.failed else "passed"
    lines = [
        f"## Gate: {head}",
        "",
        f"Rules: `{','.join(result.rules)}`. {len(result.checks)} checks: "
        + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        + f". A check fails when its 95% Welch t-interval over {result.over} lies wholly "
        "beyond the threshold (with one value on a side, when its point estimate does).",
        "",
    ]
    for verdict, title in ((FAILED, "Failed"), (WITHIN_NOISE, "Within noise (not failed)")):
        rows = [
            [c.row, c.rule, _number(c), _interval(c), f"{c.values_a} / {c.values_b}", c.note]
            for c in result.checks
            if c.verdict == verdict
        ]
        if rows:
            headers = ["row", "rule", "B vs A", "95% interval", "values A / B", "note"]
            lines += [
                f"### {title}",
                "",
                tabulate(rows, headers, tablefmt="github", disable_numparse=True),
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def _number(check: Check) -> str:
    if check.estimate is None:
        return "-"
    return f"{check.estimate:.3f}x" if check.rule.endswith("x") else f"{check.estimate:+.3f}"


def _interval(check: Check) -> str:
    if check.low is None or check.high is None:
        return "-"
    if check.rule.endswith("x"):
        return f"[{check.low:.3f}x, {check.high:.3f}x]"
    return f"[{check.low:+.3f}, {check.high:+.3f}]"
