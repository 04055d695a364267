"""The client's half of the pruning bridge (the trial's half is :mod:`bench.run.trial`).

Before a batch, :func:`plan_history` copies the study's finished trials into plain data that
travels with each trial; after a trial's record returns, :func:`tell_record` replays the
trial's milestone reports into the study (so the study holds the same intermediate values the
trial's pruner saw) and tells Optuna how the trial ended: complete with its validation
accuracy, pruned, or failed.
"""

from __future__ import annotations

from typing import Any

from bench.results.store.record import RunRecord


def plan_history(study: Any) -> list[dict[str, Any]]:
    """The study's complete and pruned trials, as :class:`~bench.run.trial.TrialPlan` wants."""
    from optuna.trial import TrialState

    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    return [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "intermediate": sorted([int(s), float(v)] for s, v in t.intermediate_values.items()),
            "system_attrs": dict(t.system_attrs),
        }
        for t in finished
    ]


def tell_record(study: Any, trial: Any, record: RunRecord) -> str:
    """Replay ``record``'s reports into ``trial`` and tell the study its end; return the state
    (``COMPLETE``, ``PRUNED`` or ``FAIL``)."""
    from optuna.trial import TrialState

    trial.set_user_attr("run_id", record.run_id)
    clocks = record.timings.get("clocks") or {}
    trial.set_user_attr("train_seconds", clocks.get("train_seconds"))
    trial.set_user_attr("wall_seconds", clocks.get("wall_seconds"))
    if not record.ok:
        trial.set_user_attr("error", str(record.error))
        study.tell(trial, state=TrialState.FAIL)
        return "FAIL"
    outcome = record.metrics["trial"]
    trial.set_user_attr("stopped", outcome.get("stopped"))
    trial.set_user_attr("over_budget", bool(outcome.get("over_budget")))
    trial.set_user_attr("epochs_done", outcome.get("epochs_done"))
    for step, value in outcome["reports"]:
        trial.report(float(value), int(step))
        trial.should_prune()  # lets a successive-halving pruner note the trial's rungs
    if outcome["state"] == "PRUNED":
        study.tell(trial, state=TrialState.PRUNED)
        return "PRUNED"
    study.tell(trial, float(record.metrics["val_accuracy"]))
    return "COMPLETE"
