"""The random generators of one run, made from its seed and handed to the model's adapter.

Nothing in the harness seeds or reads global random state: an adapter draws what it needs
(an estimator's ``random_state``, the order of the training batches) from the generators of
its run, so two runs in one process, or a run beside a Dask worker's event loop, cannot
disturb each other. What stays global is what a framework requires for its own kernels and
initial weights, set by the family's ``seed_framework``: ``keras.utils.set_random_seed``
(with Keras's default layer seeds moved off Python's global ``random``, which a Dask
worker's event loop also draws from) and ``torch.manual_seed`` (PyTorch's default generator
initialises the layers; nothing else in the process draws from it).

Example
-------
>>> first, again = RunRandom.from_seed(3), RunRandom.from_seed(3)
>>> first.draw_seed() == again.draw_seed()
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEED_BOUND = 2**31 - 1
"""Seeds drawn for libraries are below this (scikit-learn takes 32-bit ``random_state``)."""


@dataclass
class RunRandom:
    """A run's own NumPy Generator and Python Random, and its PyTorch Generator on demand
    (so that a run without PyTorch never imports it), all made from ``seed``."""

    seed: int
    numpy: np.random.Generator
    python: random.Random
    _torch: Any = field(default=None, repr=False)

    @classmethod
    def from_seed(cls, seed: int) -> RunRandom:
        """Fresh generators for ``seed``: the same seed always gives the same streams."""
        return cls(seed, np.random.default_rng(seed), random.Random(seed))

    def torch(self) -> Any:
        """The run's ``torch.Generator`` (on the CPU), seeded with the run's seed."""
        if self._torch is None:
            import torch

            self._torch = torch.Generator().manual_seed(self.seed)
        return self._torch

    def draw_seed(self) -> int:
        """A seed for a library that takes an integer, drawn from the run's NumPy Generator."""
        return int(self.numpy.integers(0, SEED_BOUND))
