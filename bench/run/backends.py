"""Keras 3 backends as a run axis: which backend a run asks for, and which one a process has.

Keras fixes its backend (``KERAS_BACKEND``: ``tensorflow``, ``jax`` or ``torch``) the first
time it is imported, so a process serves one backend for its whole life. The executors send a
run of another backend than their own process's to a worker process started for that backend
(:mod:`bench.run.backend_worker`, or Dask workers tagged ``backend-<name>``). Only families
that declare backends (the Keras family) use the axis; the others run once, whatever
``--backend`` says.

Example
-------
>>> parse_backends("tensorflow, jax")
['tensorflow', 'jax']
"""

from __future__ import annotations

import importlib.util

from bench.core.backend import ENVIRONMENT_VARIABLE, KERAS_BACKENDS, process_backend
from bench.core.errors import BenchError
from bench.core.spec import DEFAULT_BACKEND, RunSpec
from bench.models.family import FAMILIES
from bench.models.registry import get_model


def parse_backends(text: str) -> list[str]:
    """``"tensorflow,jax"`` -> ``["tensorflow", "jax"]``; unknown or no names are an error."""
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        choices = ", ".join(KERAS_BACKENDS)
        raise BenchError(f"--backend {text!r} names nothing; choose from {choices}")
    unknown = [name for name in names if name not in KERAS_BACKENDS]
    if unknown:
        raise BenchError(
            f"--backend: unknown Keras backend {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(KERAS_BACKENDS)}"
        )
    return names


def installed(backend: str) -> bool:
    """True when the package ``backend`` needs can be imported here (nothing is imported)."""
    return importlib.util.find_spec(backend) is not None


def uses_backends(family: str) -> bool:
    """True when models of ``family`` run on a Keras backend (the ``--backend`` axis)."""
    return bool(FAMILIES.get(family).backends)


def needs_backend_process(run: RunSpec) -> bool:
    """True when ``run`` must train in a process of its Keras backend other than this one."""
    return uses_backends(get_model(run.model).family) and run.backend != process_backend()


def backend_problem(family: str, backend: str) -> str | None:
    """Why a model of ``family`` cannot run in this process for a run asking ``backend``."""
    if not uses_backends(family):
        if backend != DEFAULT_BACKEND:
            return (
                f"--backend applies to Keras models; a {family} model runs with the default "
                f"({DEFAULT_BACKEND!r}), not {backend!r}"
            )
        return None
    here = process_backend()
    if backend != here:
        return (
            f"this run asks for the Keras backend {backend!r} but this process's Keras runs on "
            f"{here!r} (Keras fixes its backend at first import; set {ENVIRONMENT_VARIABLE} "
            "before starting the process, or let bench start a worker for it)"
        )
    return None
