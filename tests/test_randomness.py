"""Each run owns its generators: the same seed gives the same streams, and a run of a model
that needs no framework-global seeding leaves Python's and NumPy's global generators alone."""

from __future__ import annotations

import random

import numpy as np

from bench.core.randomness import RunRandom
from bench.run.selection import build_runs
from bench.run.trainer import execute_run


def test_the_same_seed_gives_the_same_streams_and_another_seed_others():
    first, again, other = RunRandom.from_seed(5), RunRandom.from_seed(5), RunRandom.from_seed(6)
    assert first.numpy.random(3).tolist() == again.numpy.random(3).tolist()
    assert first.python.random() == again.python.random()
    assert first.draw_seed() == again.draw_seed() != other.draw_seed()
    assert 0 <= other.draw_seed() < 2**31 - 1


def test_a_scikit_learn_run_reads_no_global_random_state(bench_home):
    (run,) = build_runs(["logreg:quick"], ["digits"], [4], limit_train=300)
    execute_run(run)  # imports first: some libraries draw from the global random on import
    random.seed(1)
    np.random.seed(1)
    python_state, numpy_state = random.getstate(), np.random.get_state()
    first = execute_run(run)
    assert random.getstate() == python_state
    assert all(
        np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state, strict=True)
    )
    random.seed(99)
    np.random.seed(99)  # another global state: the same run, the same fit
    second = execute_run(run)
    assert first.ok and second.ok
    assert first.predictions == second.predictions


def _initial_weights(draws_from_the_global_random: int) -> list[np.ndarray]:
    """The MLP's initial weights for seed 3, with ``draws_from_the_global_random`` draws made
    from Python's global ``random`` between seeding and building (as a Dask worker's event
    loop makes them, from another thread)."""
    from bench.models.family import adapter_class
    from bench.models.registry import get_model

    spec = get_model("mlp")
    adapter_class(spec).seed_framework(3, False)
    for _ in range(draws_from_the_global_random):
        random.random()
    model = spec.build(spec.config, (8, 8, 1), 10)
    return [np.asarray(weight) for weight in model.get_weights()]


def test_keras_initial_weights_ignore_draws_others_make_from_the_global_random():
    quiet, busy = _initial_weights(0), _initial_weights(5)
    assert len(quiet) == len(busy) > 0
    assert all(np.array_equal(a, b) for a, b in zip(quiet, busy, strict=True))
    reseeded = _initial_weights(0)
    assert all(np.array_equal(a, b) for a, b in zip(quiet, reseeded, strict=True))
