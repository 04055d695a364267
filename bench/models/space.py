"""Search spaces, declared beside a model's defaults: what ``bench tune`` may try for each key.

A model registers ``space={"learning_rate": FloatRange(1e-4, 1e-2, log=True), ...}``; every
key must be a config key, and every range must lie inside the range the model, its family or
the harness declares for that key with :class:`~bench.models.params.Param`. The classes here
are plain data (no Optuna): :mod:`bench.tune.spaces` turns them into Optuna distributions.

Example
-------
>>> FloatRange(0.1, 0.01).problem("dropout", None)
'dropout: the low bound 0.1 is above the high bound 0.01; swap them'
>>> IntRange(1, 20).describe()
'int 1..20'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.models.params import Param


def _range_problem(key: str, low: float, high: float, log: bool, rule: Param | None) -> str | None:
    if low > high:
        return f"{key}: the low bound {low:g} is above the high bound {high:g}; swap them"
    if log and low <= 0:
        return f"{key}: a log-scale range must start above 0 (low is {low:g}); raise it"
    if rule is not None:
        if rule.minimum is not None and low < rule.minimum:
            return (
                f"{key}: the low bound {low:g} is below the declared minimum {rule.minimum:g} "
                f"(Param); raise it to {rule.minimum:g} or more"
            )
        if rule.maximum is not None and high > rule.maximum:
            return (
                f"{key}: the high bound {high:g} is above the declared maximum "
                f"{rule.maximum:g} (Param); lower it to {rule.maximum:g} or less"
            )
        if rule.choices is not None:
            return f"{key}: the config allows only {rule.choices}; search it with Choice(...)"
    return None


@dataclass(frozen=True)
class FloatRange:
    """A real number between ``low`` and ``high`` (both included), uniform or on a log scale."""

    low: float
    high: float
    log: bool = False

    def problem(self, key: str, rule: Param | None) -> str | None:
        """What is wrong with this range for ``key`` under ``rule``, or None."""
        return _range_problem(key, self.low, self.high, self.log, rule)

    def describe(self) -> str:
        """The range in a few characters, for ``bench list --spaces``."""
        return f"float {self.low:g}..{self.high:g}" + (" (log)" if self.log else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON form (for the space's hash and the study's record)."""
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class IntRange:
    """A whole number between ``low`` and ``high`` (both included), in ``step`` s or on a log
    scale."""

    low: int
    high: int
    log: bool = False
    step: int = 1

    def problem(self, key: str, rule: Param | None) -> str | None:
        """What is wrong with this range for ``key`` under ``rule``, or None."""
        if self.step < 1 or (self.log and self.step != 1):
            return f"{key}: step must be 1 or more (and 1 on a log scale), got {self.step}"
        return _range_problem(key, self.low, self.high, self.log, rule)

    def describe(self) -> str:
        """The range in a few characters, for ``bench list --spaces``."""
        step = f" step {self.step}" if self.step != 1 else ""
        return f"int {self.low}..{self.high}{step}" + (" (log)" if self.log else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON form (for the space's hash and the study's record)."""
        return {
            "type": "int",
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "step": self.step,
        }


@dataclass(frozen=True)
class Choice:
    """One of a few values (numbers, strings, booleans)."""

    options: tuple[Any, ...]

    def problem(self, key: str, rule: Param | None) -> str | None:
        """What is wrong with these options for ``key`` under ``rule``, or None."""
        if not self.options:
            return f"{key}: Choice() needs at least one option"
        if rule is not None:
            for option in self.options:
                wrong = rule.problem(key, option)
                if wrong:
                    return f"{key}: option {option!r} breaks the declared range ({wrong})"
        return None

    def describe(self) -> str:
        """The options, for ``bench list --spaces``."""
        return "one of " + ", ".join(repr(o) for o in self.options)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (for the space's hash and the study's record)."""
        return {"type": "choice", "options": list(self.options)}


Dimension = FloatRange | IntRange | Choice
Space = Mapping[str, Dimension]


def space_problems(
    space: Space, config: Mapping[str, Any], *rule_sets: Mapping[str, Param]
) -> list[str]:
    """Every problem of ``space`` against the model's ``config`` keys and declared rules (the
    first rule set that has the key wins)."""
    problems = []
    for key, dimension in space.items():
        if key not in config:
            problems.append(
                f"{key}: not a config key of the model; declare it in config first "
                f"(known: {', '.join(sorted(config))})"
            )
            continue
        if not isinstance(dimension, (FloatRange, IntRange, Choice)):
            problems.append(
                f"{key}: {dimension!r} is not a FloatRange, IntRange or Choice "
                "(from bench.models.space)"
            )
            continue
        rule = next((rules[key] for rules in rule_sets if key in rules), None)
        problem = dimension.problem(key, rule)
        if problem:
            problems.append(problem)
    return problems


def space_dict(space: Space) -> dict[str, Any]:
    """The space's JSON form, keys sorted."""
    return {key: space[key].to_dict() for key in sorted(space)}


def space_hash(space: Space) -> str:
    """Short SHA-256 of the space: a tuned preset is stale once its model's space changes."""
    text = json.dumps(space_dict(space), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
