"""The equal budget of a race: the same number of trials for every model, and the same cap on
each trial's training seconds.

Inside the cap, a trial trains for the epochs its config says (``epochs`` is searched like any
other key); when the training clock (validation checks excluded) reaches the cap, training
stops mid-epoch and the model is scored on the validation split there. A learning-rate
schedule planned over more epochs than fit in the cap is cut where it stands, so a search
that wants a finished schedule learns to pick fewer epochs. One scikit-learn ``fit`` call
cannot be cut: such a trial runs to its end and is flagged ``over_budget`` when it passed the
cap by more than 5%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bench.core.errors import BenchError
from bench.run.trial import MILESTONES

MIN_TRIAL_SECONDS = 1.0
"""Below this a trial cannot take a first step and reach its first validation check (at a
tenth of the cap) on these CPUs: Keras's first compiled call alone takes about a second."""


@dataclass(frozen=True)
class Budget:
    """``trials`` per model and study; at most ``trial_seconds`` of training per trial."""

    trials: int
    trial_seconds: float
    milestones: int = MILESTONES

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as stored with the study and the tuned preset."""
        return asdict(self)

    def describe(self) -> str:
        """``20 trials, 60 s each``."""
        return f"{self.trials} trials, {self.trial_seconds:g} s each"


def checked_budget(trials: int, trial_seconds: float) -> Budget:
    """The budget of ``--trials`` and ``--trial-budget``, or a :class:`BenchError` saying
    what to change."""
    if trials < 1:
        raise BenchError(f"--trials must be 1 or more, got {trials} (e.g. --trials 20)")
    if not trial_seconds >= MIN_TRIAL_SECONDS:  # also refuses NaN
        raise BenchError(
            f"--trial-budget {trial_seconds:g} s is too small for one validation check "
            f"(the first comes at a tenth of the budget, after the first training step); "
            f"give at least {MIN_TRIAL_SECONDS:g} s, e.g. --trial-budget 60"
        )
    return Budget(trials, float(trial_seconds))
