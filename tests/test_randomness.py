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
