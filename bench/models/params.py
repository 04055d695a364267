"""Ranges for config values, declared beside their defaults.

A model's ``config`` may give a key as ``Param(default, minimum=..., choices=...)`` instead of a
bare default; a family declares rules for the keys its adapter reads (``epochs``,
``batch_size``); the harness declares rules for keys it reads itself. Config resolution checks
every value against its rule before any run starts.

Example
-------
>>> Param(10, minimum=1).problem("epochs", 0)
'epochs=0 is below its minimum 1'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """A config default with the values it may take."""

    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None

    def problem(self, key: str, value: Any) -> str | None:
        """What is wrong with ``key=value`` under this rule, or None."""
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            return f"{key}={value!r} is not one of {allowed}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.minimum is not None and value < self.minimum:
                return f"{key}={value} is below its minimum {self.minimum:g}"
            if self.maximum is not None and value > self.maximum:
                return f"{key}={value} is above its maximum {self.maximum:g}"
        return None


POSITIVE_COUNT = Param(1, minimum=1)
HARNESS_RULES: Mapping[str, Param] = {
    # Where per-epoch validation looks: the held-out split (the race) or the test set (only
    # for replicating a tutorial that did so; such runs are reported apart).
    "validate_on": Param("holdout", choices=("holdout", "test")),
    # Set by a tuned preset whose best trial was cut by the tuning budget: train this many
    # epochs (a fraction) of the config's schedule, as the trial did, then stop.
    "stop_at_epochs": Param(None, minimum=0.0),
}


def split_params(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Param]]:
    """Separate ``config`` into plain defaults and the rules its ``Param`` entries declare."""
    defaults: dict[str, Any] = {}
    rules: dict[str, Param] = {}
    for key, value in config.items():
        if isinstance(value, Param):
            defaults[key], rules[key] = value.default, value
        else:
            defaults[key] = value
    return defaults, rules


def config_problems(config: Mapping[str, Any], *rule_sets: Mapping[str, Param]) -> list[str]:
    """Every value of ``config`` that breaks its rule (first rule set that has the key wins),
    and every number that is not finite."""
    problems = []
    for key, value in config.items():
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{key}={value} is not a finite number")
            continue
        rule = next((rules[key] for rules in rule_sets if key in rules), None)
        problem = rule.problem(key, value) if rule else None
        if problem:
            problems.append(problem)
    return problems
