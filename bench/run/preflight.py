"""Everything that can be checked before any training, checked at once.

A sweep that would fail halfway (an unwritable results folder, a dataset that cannot load, a
model whose layers do not fit the images, an unreachable scheduler address, a Keras backend
or PyTorch that is not installed, a GPU asked for where there is none) is refused before the
first run starts, with every reason in one message and nothing trained.

What a run needs of the machine it trains on (a backend installed, a GPU) is each family's
``preflight`` hook; it is checked only when the runs train on this machine (not with
``--scheduler``, whose workers may differ).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_bytes, remove_stale_temporaries
from bench.core.spec import DEFAULT_BACKEND, OUR_CORRUPTIONS, RunSpec
from bench.data import load_dataset
from bench.models.family import FAMILIES
from bench.models.registry import get_model

SCHEDULER_ADDRESS = re.compile(r"^(?:[a-z]+://)?[^\s:/]+(?::\d{1,5})?$")


def check_results_dir(results_dir: Path) -> str | None:
    """None if records can be written under ``results_dir``, else the reason and the fix."""
    runs = Path(results_dir) / "runs"
    try:
        runs.mkdir(parents=True, exist_ok=True)
        probe = runs / f".write-probe-{os.getpid()}"
        atomic_write_bytes(probe, b"")
        probe.unlink()
    except OSError as error:
        return (
            f"cannot write results under {results_dir} ({error.strerror or error}); "
            "choose a writable folder with --results-dir"
        )
    return None


def check_scheduler(address: str | None) -> str | None:
    """None if ``address`` looks like a Dask scheduler address, else what is wrong."""
    if address is None or SCHEDULER_ADDRESS.match(address):
        return None
    return f"--scheduler {address!r} is not an address; write it as tcp://HOST:PORT"


def check_sweep(
    runs: Sequence[RunSpec],
    results_dir: Path,
    *,
    scheduler: str | None = None,
    takes_scheduler: bool = True,
    say: Callable[[str], None] = print,
) -> None:
    """Raise one :class:`BenchError` listing every problem of the sweep, or return quietly.

    Datasets are loaded (and verified) here, once each, so a broken second dataset stops
    the sweep before the first dataset's runs train.
    """
    problems = [p for p in (check_results_dir(results_dir), check_scheduler(scheduler)) if p]
    if scheduler and not takes_scheduler:
        problems.append("--scheduler sends runs to a Dask cluster: use it with --executor dask")
    shapes: dict[tuple[str, str | None], tuple[int, int]] = {}
    for key in dict.fromkeys((run.dataset, run.data_dir) for run in runs):
        try:
            dataset = load_dataset(*key)
        except BenchError as error:
            problems.append(f"dataset {key[0]}: {error}")
            continue
        shapes[key] = dataset.image_shape
        say(f"data: {dataset.name} from {dataset.source}, SHA-256 verified")
    problems += _robustness_problems(runs)
    for label, dataset, problem in _model_problems(runs, shapes, on_this_machine=not scheduler):
        problems.append(f"{label} on {dataset}: {problem}")
    if problems:
        raise BenchError(
            "nothing was trained; fix these first:\n  - " + "\n  - ".join(dict.fromkeys(problems))
        )
    remove_stale_temporaries(Path(results_dir) / "runs", recursive=True)


def fitting_runs(runs: Sequence[RunSpec], say: Callable[[str], None] = print) -> list[RunSpec]:
    """For ``--all``: the runs whose model can take its dataset's images; the others are left
    out with a note (say, the 28x28 LeNet-5 on the 8x8 digits), not refused."""
    shapes: dict[tuple[str, str | None], tuple[int, int] | None] = {}
    kept, skipped = [], {}
    for run in runs:
        key = (run.dataset, run.data_dir)
        if key not in shapes:
            try:
                shapes[key] = load_dataset(*key).image_shape
            except BenchError:  # check_sweep reports it with every other problem
                shapes[key] = None
        shape, minimum = shapes[key], get_model(run.model).min_image_size
        if shape and minimum and min(shape) < minimum:
            skipped[(run.model, run.dataset)] = (
                f"needs images of at least {minimum}x{minimum} pixels, "
                f"{run.dataset}'s are {shape[0]}x{shape[1]}"
            )
        else:
            kept.append(run)
    for (model, dataset), why in skipped.items():
        say(f"--all: leaving out {model} on {dataset}: {why}")
    return kept


def _robustness_problems(runs: Sequence[RunSpec]) -> list[str]:
    """A published MNIST-C folder must exist, hold corruption folders, and meet MNIST only."""
    from bench.data.mnist_c import mnist_c_names

    problems = []
    for folder in dict.fromkeys(
        r.robustness for r in runs if r.robustness not in (None, OUR_CORRUPTIONS)
    ):
        try:
            if not mnist_c_names(folder):
                problems.append(f"--robustness-from {folder}: no MNIST-C corruption folders there")
        except BenchError as error:
            problems.append(f"--robustness-from {folder}: {error}")
        others = sorted({r.dataset for r in runs if r.robustness == folder} - {"mnist"})
        if others:
            names = ", ".join(others)
            problems.append(
                f"--robustness-from holds MNIST-C, which corrupts MNIST only, not {names}"
            )
    return problems


def _model_problems(
    runs: Sequence[RunSpec],
    shapes: dict[tuple[str, str | None], tuple[int, int]],
    on_this_machine: bool = True,
) -> list[tuple[str, str, str]]:
    found = []
    machine_checked: dict[tuple[str, str, str], list[str]] = {}
    for run in runs:
        spec = get_model(run.model)
        shape = shapes.get((run.dataset, run.data_dir))
        if spec.family not in FAMILIES:
            found.append((run.label, run.dataset, f"unknown model family {spec.family!r}"))
            continue
        family = FAMILIES.get(spec.family)
        if not family.backends and run.backend != DEFAULT_BACKEND:
            found.append(
                (run.label, run.dataset, f"--backend applies to Keras models, not {family.name}")
            )
        if on_this_machine and family.preflight is not None:
            key = (run.model, run.backend, str(run.config.get("device", "")))
            if key not in machine_checked:
                machine_checked[key] = family.preflight(spec, run)
            found.extend((run.label, run.dataset, p) for p in machine_checked[key])
        if shape and spec.min_image_size and min(shape) < spec.min_image_size:
            found.append(
                (
                    run.label,
                    run.dataset,
                    f"needs images of at least {spec.min_image_size}x{spec.min_image_size} "
                    f"pixels, this dataset's are {shape[0]}x{shape[1]}; choose another dataset "
                    "or model",
                )
            )
    return found
