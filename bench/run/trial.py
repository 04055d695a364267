"""A tuning trial inside the trainer: its budget, its pruning verdicts, and what it records.

``bench tune`` sends each trial as a plain :class:`~bench.run.spec.RunSpec` whose ``tuning``
field is a :class:`TrialPlan`'s dict, so a trial travels to any executor (this process, a
backend worker, a Dask worker) like every other run. On the worker, :class:`TrialControl`
caps the trial's training seconds and asks Optuna's own pruner whether to stop: it rebuilds
the study's finished trials (sent with the plan) in an in-memory study of the same name,
adds this trial with the same number, and reports the validation accuracy at each milestone
of the budget (``k * budget / milestones`` training seconds, k = 1..milestones). The study on
the client never needs to be reachable from a worker; the client replays the same reports
into it when the record comes back.

The pruner sees exactly what a trial sees when the study runs one trial at a time; in a
batch of parallel trials, each sees the trials finished before its batch began.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

PRUNERS = ("median", "hyperband", "none")
STOP_AT_EPOCHS = "stop_at_epochs"
"""The harness config key a tuned preset sets when its best trial was cut by the budget."""
MEDIAN_STARTUP_TRIALS = 5
HYPERBAND_REDUCTION = 3
MILESTONES = 10
"""Validation checks per trial budget: at 10%, 20%, ... of the budget's training seconds."""
OVER_BUDGET_TOLERANCE = 1.05
"""A trial is flagged over budget when its training clock passed the cap by more than 5%: an
uninterruptible fit (one scikit-learn ``fit`` call), or a training step longer than the rest."""


@dataclass(frozen=True)
class TrialPlan:
    """What a trial needs to know beyond its config (plain data, sent with the run).

    ``history`` holds the study's finished trials: ``{"number", "state", "value",
    "intermediate": [[step, value], ...], "system_attrs": {...}}``.
    """

    study: str
    number: int
    budget_seconds: float
    pruner: str = "median"
    milestones: int = MILESTONES
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The plain form stored in ``RunSpec.tuning``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialPlan:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def make_pruner(name: str, milestones: int = MILESTONES) -> Any:
    """Optuna's pruner called ``name``: ``median`` (after 5 finished trials, from the 2nd
    milestone on), ``hyperband`` (over the milestones, reduction factor 3) or ``none``."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=2)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=milestones, reduction_factor=HYPERBAND_REDUCTION
        )
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"unknown pruner {name!r}; choose one of {', '.join(PRUNERS)}")


def frozen_history(history: list[dict[str, Any]], upto: int) -> list[Any]:
    """The finished trials of ``history`` as Optuna trials numbered 0..``upto``-1 (a failed
    placeholder stands for every number not in ``history``: running or failed trials)."""
    from optuna.trial import TrialState, create_trial

    by_number = {item["number"]: item for item in history}
    trials = []
    for number in range(upto):
        item = by_number.get(number)
        if item is None:
            trials.append(create_trial(state=TrialState.FAIL))
            continue
        state = TrialState[item["state"]]
        trials.append(
            create_trial(
                state=state,
                value=item.get("value") if state == TrialState.COMPLETE else None,
                intermediate_values={int(s): float(v) for s, v in item["intermediate"]},
                system_attrs=dict(item.get("system_attrs") or {}),
            )
        )
    return trials


class TrialControl:
    """The :class:`~bench.models.family.FitControl` of one trial (see the module's text)."""

    def __init__(self, plan: TrialPlan) -> None:
        self.plan = plan
        self.budget_seconds = float(plan.budget_seconds)
        self.milestones = int(plan.milestones)
        self.stop_at_epochs: float | None = None
        self.reports: list[list[float]] = []
        self.pruned_at: int | None = None
        self._trial: Any = None

    def _replica_trial(self) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(
            study_name=self.plan.study,
            direction="maximize",
            pruner=make_pruner(self.plan.pruner, self.milestones),
            sampler=optuna.samplers.RandomSampler(seed=0),
        )
        study.add_trials(frozen_history(self.plan.history, self.plan.number))
        return study.ask()

    def report(self, step: int, value: float) -> bool:
        """Note ``value`` at milestone ``step``; True when the study's pruner says stop."""
        self.reports.append([int(step), float(value)])
        if self.plan.pruner == "none":
            return False
        if self._trial is None:
            self._trial = self._replica_trial()
        self._trial.report(float(value), int(step))
        if self._trial.should_prune():
            self.pruned_at = int(step)
            return True
        return False

    def outcome(
        self, stopped: str | None, train_seconds: float, epochs_done: float
    ) -> dict[str, Any]:
        """What the record keeps about the trial: its reports, how it ended, and how many
        epochs it trained (a fraction where the cap cut an epoch)."""
        return {
            **{k: v for k, v in self.plan.to_dict().items() if k != "history"},
            "state": "PRUNED" if self.pruned_at is not None else "COMPLETE",
            "stopped": stopped,
            "pruned_at": self.pruned_at,
            "epochs_done": epochs_done,
            "reports": self.reports,
            "train_seconds": train_seconds,
            "over_budget": train_seconds > self.budget_seconds * OVER_BUDGET_TOLERANCE,
        }


class StepCap:
    """The :class:`~bench.models.family.FitControl` of a tuned preset's run: no time cap and
    no reports, only a stop after ``stop_at_epochs`` epochs (the training its best trial had
    inside the budget, replayed step for step)."""

    budget_seconds = math.inf
    milestones = 1

    def __init__(self, stop_at_epochs: float) -> None:
        self.stop_at_epochs = float(stop_at_epochs)

    def report(self, step: int, value: float) -> bool:
        """Never asked (no milestone is ever due); never prunes."""
        return False
