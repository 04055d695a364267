"""A trial's budget cap and Optuna's pruner inside a real training loop (PyTorch and Keras on
digits): stopped where the cap or the pruner says, scored there, recorded as such."""

from __future__ import annotations

import pytest

pytest.importorskip("optuna", reason="pip install 'mnist-bench[tune]'")

from bench.core.spec import RunSpec  # noqa: E402
from bench.models.registry import get_model  # noqa: E402
from bench.run.trainer import execute_run  # noqa: E402
from bench.run.trial import TrialPlan  # noqa: E402

# Five finished trials that reached 100% validation accuracy at every milestone: the median
# pruner stops any trial below that at its first milestone past warm-up.
PERFECT = [
    {
        "number": n,
        "state": "COMPLETE",
        "value": 1.0,
        "intermediate": [[s, 1.0] for s in range(1, 11)],
    }
    for n in range(5)
]


def trial(model: str, budget: float, pruner: str, history: list, **config) -> RunSpec:
    spec = get_model(model)
    plan = TrialPlan("digits--test", len(history), budget, pruner, history=history)
    return RunSpec(model, "trial", "digits", 0, {**spec.config, **config}, tuning=plan.to_dict())


@pytest.mark.parametrize("model", ["torch_cnn", "mlp"])
def test_a_trial_stops_at_its_budget_and_is_scored_there(model):
    pytest.importorskip("torch" if model.startswith("torch") else "keras")
    record = execute_run(trial(model, 2.0, "none", [], epochs=400))
    assert record.ok, record.error
    outcome = record.metrics["trial"]
    assert outcome["stopped"] == "budget" and outcome["state"] == "COMPLETE"
    # the training clock includes setup: a first compiled call past the cap ends it there
    first_step = record.history[0]["first_step_seconds"]
    assert 2.0 <= record.train_seconds < max(2.0, first_step) + 1.0
    assert record.history[-1]["epoch"] < 400 and record.history[-1]["stopped"] == "budget"
    assert [step for step, _ in outcome["reports"]] == list(range(1, 11))
    assert record.metrics["val_accuracy"] == record.checks[-1]["val_accuracy"]
    assert not record.test_labels and record.n_test == 0


def test_the_median_pruner_stops_a_trial_below_the_finished_ones():
    pytest.importorskip("torch")
    record = execute_run(trial("torch_cnn", 4.0, "median", PERFECT, epochs=400, learning_rate=1e-6))
    assert record.ok, record.error
    outcome = record.metrics["trial"]
    assert outcome["state"] == "PRUNED" and outcome["stopped"] == "pruned"
    assert outcome["pruned_at"] <= 2
    assert record.train_seconds < 4.0 * 0.5  # stopped well before the cap


def test_a_forest_grows_in_steps_and_is_pruned_between_them():
    """scikit-learn's iterative case: a random forest grown tree batch by tree batch."""
    record = execute_run(trial("random_forest", 1.0, "median", PERFECT, n_estimators=4000))
    assert record.ok, record.error
    outcome = record.metrics["trial"]
    assert outcome["state"] == "PRUNED" and outcome["pruned_at"] <= 2
    assert record.history[-1]["stopped"] == "pruned"


def test_a_tuned_preset_replays_the_training_its_trial_had_inside_the_budget():
    """``stop_at_epochs`` (what a tuned preset sets when the cap cut its best trial) stops an
    ordinary run at the same step: same weights, same validation accuracy, and the test set
    predicted once as for every run."""
    pytest.importorskip("torch")
    cut = execute_run(trial("torch_cnn", 1.5, "none", [], epochs=400))
    outcome = cut.metrics["trial"]
    assert outcome["stopped"] == "budget" and 0 < outcome["epochs_done"] < 400
    spec = get_model("torch_cnn")
    config = {**spec.config, "epochs": 400, "stop_at_epochs": outcome["epochs_done"]}
    replay = execute_run(RunSpec("torch_cnn", "tuned", "digits", 0, config))
    assert replay.ok, replay.error
    assert replay.history[-1]["stopped"] == "budget"
    assert replay.history[-1]["stopped_at_epochs"] == outcome["epochs_done"]
    assert replay.checks[-1]["val_accuracy"] == cut.metrics["val_accuracy"]
    assert replay.metrics["accuracy"] > 0 and len(replay.test_labels) == replay.n_test > 0


def test_hyperband_prunes_a_trial_far_below_its_bracket_and_keeps_a_good_one():
    """Optuna's Hyperband, rebuilt on the worker from the finished trials the plan carries
    (their rung records included), as the client's plan_history hands them over."""
    import optuna

    from bench.run.trial import TrialControl, make_pruner
    from bench.tune.pruning import plan_history

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", study_name="digits--hb", pruner=make_pruner("hyperband")
    )
    for _ in range(30):
        trial = study.ask()
        for step in range(1, 11):
            trial.report(0.9, step)
            if trial.should_prune():
                break
        study.tell(trial, 0.9)
    history = plan_history(study)

    def steps_until_pruned(value: float) -> int | None:
        control = TrialControl(TrialPlan("digits--hb", 30, 10.0, "hyperband", history=history))
        for step in range(1, 11):
            if control.report(step, value):
                return step
        return None

    assert steps_until_pruned(0.99) is None
    assert steps_until_pruned(0.1) is not None
