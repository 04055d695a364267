"""What a speed benchmark does with its target's verdict once its numbers are in the JSON.

Imported by the benchmark modules as ``from targets import settle`` (pytest puts this folder
on ``sys.path``). A benchmark that measured passes whatever its target's verdict: a miss
depends on the CPU it ran on, so it is a "Met: no" row in BENCHMARKS.md and a
:class:`TargetNotMet` warning. ``--benchmark-strict`` (or ``MNIST_BENCH_STRICT=1``, read by
the ``strict`` fixture in ``conftest.py``) makes a miss fail and an inconclusive verdict skip.
"""

from __future__ import annotations

import warnings

import pytest


class TargetNotMet(UserWarning):
    """A speed target missed, or not settled, on this machine (a "Met: no" or "-" row)."""


def settle(verdict: bool | None, message: str, strict: bool) -> None:
    """Act on a target's verdict once its numbers are in the JSON.

    Met (True): nothing. Missed (False): a :class:`TargetNotMet` warning, and the row reads
    "Met: no"; a failure only when ``strict``. Inconclusive (None: the noise hides the
    answer): a warning, or a skip when ``strict``.
    """
    if verdict is True:
        return
    text = f"target {'missed' if verdict is False else 'inconclusive on this machine'}: {message}"
    if strict and verdict is False:
        pytest.fail(text)
    if strict:
        pytest.skip(text)
    warnings.warn(TargetNotMet(text), stacklevel=2)
