"""The trainer's phases: a failed run's record holds what the phases before the failure
returned, and every family's history entries are :class:`HistoryEntry` values."""

from __future__ import annotations

import dataclasses

import pytest

from bench.models.family import HistoryEntry
from bench.models.preprocess import flatten_and_scale
from bench.models.registry import REGISTRY, register_model
from bench.run.selection import build_runs
from bench.run.trainer import execute_run

ENTRY_FIELDS = {f.name for f in dataclasses.fields(HistoryEntry)}
REQUIRED_FIELDS = {f.name for f in dataclasses.fields(HistoryEntry) if f.default is not None}


@pytest.fixture
def failing_models():
    """A model that fails while it is built, and a PyTorch model whose loss is NaN."""

    @register_model(family="sklearn", preprocess=flatten_and_scale, config={"C": 1.0})
    def fails_to_build(config, input_shape, num_classes):
        """Raises while building."""
        raise RuntimeError("broken on purpose")

    def sgd(config, parameters, steps_per_epoch):
        import torch

        return torch.optim.SGD(parameters, lr=0.1)

    @register_model(
        family="torch",
        preprocess=flatten_and_scale,
        config={"epochs": 3, "batch_size": 64},
        optimizer=sgd,
    )
    def nan_loss(config, input_shape, num_classes):
        """Logits times NaN."""
        import torch

        class Poisoned(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = torch.nn.Linear(input_shape[0], num_classes)

            def forward(self, x):
                return self.linear(x) * float("nan")

        return Poisoned()

    yield
    for name in ("fails_to_build", "nan_loss"):
        REGISTRY.remove(name)


def test_a_build_failure_keeps_the_model_and_split_phases(failing_models, bench_home):
    (run,) = build_runs(["fails_to_build"], ["digits"], [0])
    record = execute_run(run)
    assert not record.ok and record.error.message == "broken on purpose"
    assert record.family == "sklearn" and record.code["model_fingerprint"]
    assert record.dataset_info["protocol"] == "holdout"
    assert (record.n_train, record.n_test) == (1212, 450)
    assert record.parameters is None and record.history == [] and record.metrics == {}
    assert "framework" not in record.environment, "no model was built"


def test_a_nan_loss_keeps_the_build_and_fit_phases_but_no_metrics(failing_models, bench_home):
    pytest.importorskip("torch")
    (run,) = build_runs(["nan_loss"], ["digits"], [0])
    record = execute_run(run)
    assert record.error.type == "NonFiniteLoss"
    assert record.parameters == 64 * 10 + 10
    assert record.environment["framework"]["torch"]
    assert len(record.history) == 1, "training stops after the first NaN epoch"
    assert set(record.history[0]) <= ENTRY_FIELDS
    assert record.metrics == {} and record.predictions == [] and record.timings == {}


def test_every_history_entry_is_a_history_entry(sgd_model, bench_home):
    (run,) = build_runs([f"{sgd_model}:quick"], ["digits"], [0])
    record = execute_run(run)
    assert record.ok
    (entry,) = record.history
    assert REQUIRED_FIELDS <= set(entry) <= ENTRY_FIELDS
    assert entry["converged"] in (True, False) and entry["train_scored"] == record.n_train
    assert HistoryEntry(**entry).to_dict() == entry
