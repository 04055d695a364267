"""Per-epoch history, validation checks and the training clock, for any training loop.

A framework's loop reports its progress to a :class:`FitRecorder` (training began, an epoch
began, some steps finished, an epoch ended with its loss and accuracy); the recorder checks
the validation split several times per epoch, keeps that time off the training clock, and
builds the history entries and checks every family records alike. The Keras adapter calls it
from a callback, the PyTorch adapter from its own loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.models.family import EpochCallback, FitControl, FitResult, HistoryEntry

BUDGET = "budget"
PRUNED = "pruned"

Validate = Callable[[], tuple[float, float]]
VALIDATION_BATCH = 1024
"""Images per forward pass when a loop scores the validation split."""
PROBABILITY_FLOOR = 1e-7
"""The smallest probability the validation loss takes the log of (Keras's epsilon)."""


def validation_scores(proba: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy and mean cross-entropy of class probabilities ``proba`` for integer ``labels``:
    what every family's loop reports for the validation split."""
    picked = proba[np.arange(len(labels)), labels.astype(np.int64)].astype(np.float64)
    loss = float(-np.mean(np.log(np.clip(picked, PROBABILITY_FLOOR, 1.0))))
    return float(np.mean(proba.argmax(axis=1) == labels)), loss


class FitRecorder:
    """Records per-epoch metrics and checks the validation split several times per epoch.

    Checks (every ``1/checks_per_epoch`` of an epoch and at each epoch's end) call
    ``validate() -> (accuracy, loss)``; their time is kept off the training clock. The training
    clock starts at ``start`` (when the adapter began preparing the input), so the first epoch
    includes input setup and graph building; the first epoch's entry also says when the first
    training step (or first compiled call of several steps) returned (``first_step_seconds``)
    and on how many images, so throughput can be measured without the start-up. A non-finite
    training loss is the run's failure (:attr:`failure`); the loop should stop then.

    With a ``control`` (tuning trials), the recorder also checks at the control's milestones
    of training seconds and reports each to it; :attr:`stopped` becomes ``"pruned"`` when the
    control says so, or ``"budget"`` when the training clock reaches the control's cap, and
    the loop should stop then too (the epoch's end check scores the model where it stopped).
    """

    def __init__(
        self,
        epochs: int,
        steps_per_epoch: int,
        validate: Validate,
        on_epoch: EpochCallback | None,
        batch_size: int,
        start: float,
        checks_per_epoch: int,
        control: FitControl | None = None,
    ) -> None:
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.validate = validate
        self.on_epoch = on_epoch
        self.batch_size = batch_size
        self.start = start
        self.check_steps = sorted(
            {
                max(1, round(steps_per_epoch * k / checks_per_epoch))
                for k in range(1, checks_per_epoch)
            }
        )
        self.history: list[HistoryEntry] = []
        self.checks: list[dict[str, Any]] = []
        self.failure: str | None = None
        self.check_seconds = 0.0
        self._setup_seconds = 0.0
        self._first_step: tuple[float, int] | None = None
        self._epoch = 0
        self._next_check = 0
        self._epoch_start = start
        self._epoch_end = start
        self._epoch_check_seconds = 0.0
        self.control = control
        self.stopped: str | None = None
        self.stopped_at: float | None = None  # epochs done when it stopped (a fraction)
        self._milestone = 1
        self._fresh_check = False

    def train_clock(self) -> float:
        """Seconds of training so far: wall time since ``start`` minus validation checks."""
        return time.perf_counter() - self.start - self.check_seconds

    def check(self, fraction: float) -> tuple[float, float]:
        """Validate now, off the training clock; record it at ``fraction`` epochs."""
        began = time.perf_counter()
        accuracy, loss = self.validate()
        spent = time.perf_counter() - began
        self.check_seconds += spent
        self._epoch_check_seconds += spent
        self.checks.append(
            {
                "epoch_fraction": round(fraction, 4),
                "train_seconds": began - self.start - (self.check_seconds - spent),
                "val_accuracy": accuracy,
                "val_loss": loss,
            }
        )
        self._fresh_check = True
        return accuracy, loss

    def _milestone_seconds(self) -> float:
        assert self.control is not None
        return self._milestone * self.control.budget_seconds / self.control.milestones

    def _control_due(self) -> bool:
        return (
            self.control is not None
            and self.stopped is None
            and self.train_clock() >= self._milestone_seconds()
        )

    def _step_cap_reached(self, fraction: float) -> bool:
        cap = None if self.control is None else self.control.stop_at_epochs
        return cap is not None and self.stopped is None and fraction >= cap - 1e-9

    def _follow_control(self, fraction: float, accuracy: float | None = None) -> None:
        """Report every milestone the training clock has passed (one check serves them all,
        ``accuracy`` when just measured); stop on the control's word or at its cap."""
        assert self.control is not None
        clock = self.train_clock()
        while self.stopped is None and clock >= self._milestone_seconds():
            if accuracy is None:
                accuracy, _ = self.check(fraction)
            if self.control.report(self._milestone, accuracy):
                self.stopped = PRUNED
            self._milestone += 1
            if self._milestone > self.control.milestones:
                self.stopped = self.stopped or BUDGET
        if self.stopped:
            self.stopped_at = fraction

    def training_began(self) -> None:
        """The loop is about to run its first step: setup (input, compilation) is over."""
        self._setup_seconds = time.perf_counter() - self.start

    def epoch_began(self, epoch: int) -> None:
        """Epoch ``epoch`` (0-based) starts."""
        self._epoch = epoch
        self._next_check = 0
        self._epoch_check_seconds = 0.0
        # Epochs tile the training clock: each starts where the last one ended.
        self._epoch_start = self.start if epoch == 0 else self._epoch_end

    def due_check(self, steps_done: int) -> bool:
        """True when a mid-epoch check (or, with a control, a milestone or the cap) falls due
        after ``steps_done`` steps of this epoch."""
        return (
            (
                self._next_check < len(self.check_steps)
                and steps_done >= self.check_steps[self._next_check]
            )
            or self._control_due()
            or self._step_cap_reached(self._epoch + steps_done / self.steps_per_epoch)
        )

    def steps_finished(
        self, steps_done: int, before_check: Callable[[], None] | None = None
    ) -> None:
        """``steps_done`` steps of this epoch have finished: note the first step, and run
        the checks that fell due (``before_check`` runs first, e.g. to sync the weights)."""
        if self._first_step is None:
            self._first_step = (time.perf_counter() - self.start, steps_done)
        self._fresh_check = False
        fraction = self._epoch + steps_done / self.steps_per_epoch
        while self._next_check < len(self.check_steps) and (
            steps_done >= self.check_steps[self._next_check]
        ):
            self._next_check += 1
            if steps_done < self.steps_per_epoch:
                if before_check is not None:
                    before_check()
                self.check(fraction)
        if self._control_due():
            if before_check is not None:
                before_check()
            self._follow_control(fraction)
        if self._step_cap_reached(fraction):
            self.stopped, self.stopped_at = BUDGET, fraction  # the epoch's end check scores it

    def result(self, fit_seconds: float, notes: list[str] | None = None) -> FitResult:
        """What the loop produced after ``fit_seconds`` in all: the history and checks recorded,
        the training clock (validation checks taken off) and any failure."""
        return FitResult(
            history=self.history,
            checks=self.checks,
            train_seconds=fit_seconds - self.check_seconds,
            check_seconds=self.check_seconds,
            fit_seconds=fit_seconds,
            notes=list(notes or []),
            failure=self.failure,
        )

    def epoch_ended(self, epoch: int, loss: float | None, accuracy: float | None) -> HistoryEntry:
        """Epoch ``epoch`` (0-based) ended with this mean training loss and accuracy: check the
        validation split, record the epoch's entry, and return it."""
        train_clock = self.train_clock()
        if self.stopped and self._fresh_check:  # just checked where it stopped
            val_accuracy, val_loss = self.checks[-1]["val_accuracy"], self.checks[-1]["val_loss"]
        else:
            val_accuracy, val_loss = self.check(self.stopped_at or epoch + 1.0)
            if self._control_due():  # an epoch's end past a milestone: report this check
                self._follow_control(epoch + 1.0, val_accuracy)
        now = time.perf_counter()
        self._epoch_end = now
        seconds = now - self._epoch_start
        first = self._first_step if epoch == 0 else None
        entry = HistoryEntry(
            epoch=epoch + 1,
            loss=loss,
            accuracy=accuracy,
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            seconds=seconds,
            train_seconds=seconds - self._epoch_check_seconds,
            val_seconds=self._epoch_check_seconds,
            elapsed_train_seconds=train_clock,
            elapsed_seconds=now - self.start,
            setup_seconds=self._setup_seconds if epoch == 0 else None,
            first_step_seconds=None if first is None else first[0],
            first_step_samples=None if first is None else first[1] * self.batch_size,
            stopped=self.stopped,
            stopped_at_epochs=self.stopped_at if self.stopped else None,
        )
        self.history.append(entry)
        if loss is None or not math.isfinite(loss):
            self.failure = f"training loss became {loss} in epoch {epoch + 1}"
        if self.on_epoch is not None:
            self.on_epoch({**entry.to_dict(), "epochs": self.epochs})
        return entry
