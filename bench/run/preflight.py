"""Everything that can be checked before any training, checked at once.

A sweep that would fail halfway (an unwritable results folder or report file, a dataset that
cannot load, a model whose layers do not fit the images, a name that cannot become a file name,
a scheduler address that is not one, a Keras backend or PyTorch that is not installed, a GPU
asked for where there is none) is refused before the first run starts, with every reason in
one message and nothing trained.

What a run needs of the machine it trains on (a backend installed, a GPU) is each family's
``preflight`` hook; it is checked only when the runs train on this machine (not with
``--scheduler``, whose workers may differ).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_bytes, remove_stale_temporaries
from bench.core.names import name_problem, run_id_problem
from bench.core.spec import DEFAULT_BACKEND, OUR_CORRUPTIONS, RunSpec
from bench.data import load_dataset
from bench.models.family import FAMILIES
from bench.models.registry import get_model

SCHEDULER_PROTOCOLS = ("tcp", "tls", "ucx", "ws", "wss")
LISTEN_TIMEOUT_S = 5.0
"""How long the up-front check waits for a scheduler's port to accept a connection."""
_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
HOST_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")


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
    """None if ``address`` is a Dask scheduler address: ``[PROTOCOL://]HOST:PORT`` with a
    known protocol, a host name or IP address, and a port from 1 to 65535; else what is wrong."""
    if address is None:
        return None
    wrong = f"--scheduler {address!r} is not an address; write it as tcp://HOST:PORT"
    protocol, separator, rest = address.partition("://")
    if not separator:
        protocol, rest = "tcp", address
    if protocol not in SCHEDULER_PROTOCOLS:
        known = ", ".join(SCHEDULER_PROTOCOLS)
        return f"{wrong} (unknown protocol {protocol!r}; Dask speaks {known})"
    try:
        parts = urllib.parse.urlsplit(f"//{rest}")
        port = parts.port
    except ValueError:
        return f"{wrong} (the port must be a number from 1 to 65535)"
    host = parts.hostname or ""
    if parts.username or parts.password or parts.path or parts.query or parts.fragment:
        return wrong
    if not (_is_ip_address(host) or HOST_NAME.match(host)):
        return f"{wrong} (no host name or IP address in it)"
    if port is None:
        return f"{wrong} (it names no port; the scheduler's default is 8786)"
    if not 1 <= port <= 65535:
        return f"{wrong} (the port must be a number from 1 to 65535)"
    return None


def scheduler_listens(address: str, timeout: float = LISTEN_TIMEOUT_S) -> str | None:
    """None if something accepts a TCP connection at the scheduler ``address`` (already
    checked by :func:`check_scheduler`) within ``timeout`` seconds, else what happened. Only
    the ``ucx`` protocol is not checked here. Whether it speaks Dask is known when the sweep
    connects."""
    protocol, _, rest = address.rpartition("://")
    if protocol == "ucx":
        return None
    parts = urllib.parse.urlsplit(f"//{rest}")
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return None
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        return (
            f"--scheduler {address}: nothing accepts connections there within {timeout:g}s "
            f"({reason}); start the scheduler first ('dask scheduler'), or leave out "
            "--scheduler to use a local cluster"
        )


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def name_problems(runs: Sequence[RunSpec]) -> Iterator[str]:
    """Every name of ``runs`` that could not become a file name unchanged (see
    :mod:`bench.core.names`), and every run id longer than a file name may be (repeats included:
    the caller drops them)."""
    for run in runs:
        names = {"model": run.model, "preset": run.preset, "dataset": run.dataset}
        names["backend"] = run.backend
        for what, value in names.items():
            problem = name_problem(value)
            if problem:
                shown = value if len(value) <= 60 else f"{value[:57]}..."
                yield f"the {what} name {shown!r} {problem}"
        problem = run_id_problem(run.run_id)
        if problem:
            yield f"the run id of {run.label[:60]} {problem}; shorten the model or preset name"


def check_sweep(
    runs: Sequence[RunSpec],
    results_dir: Path,
    *,
    scheduler: str | None = None,
    takes_scheduler: bool = True,
    report: bool = False,
    say: Callable[[str], None] = print,
) -> None:
    """Raise one :class:`BenchError` listing every problem of the sweep, or return quietly.

    Datasets are loaded (and verified) here, once each, so a broken second dataset stops
    the sweep before the first dataset's runs train. With ``report``, the leaderboard's files
    must be writable too.
    """
    unwritable = check_results_dir(results_dir)
    address_problem = check_scheduler(scheduler)
    if scheduler and not address_problem and takes_scheduler:
        address_problem = scheduler_listens(scheduler)
    problems = [p for p in (unwritable, address_problem) if p]
    problems += name_problems(runs)
    if report and not unwritable:  # the report's files are checked in a folder that takes files
        from bench.results.report.leaderboard import output_problems

        problems += output_problems(results_dir)
    if scheduler and not takes_scheduler:
        problems.append("--scheduler sends runs to a Dask cluster: use it with --executor dask")
    shapes: dict[tuple[str, str | None], tuple[int, int]] = {}
    for key in dict.fromkeys((run.dataset, run.data_dir) for run in runs):
        try:
            loaded = load_dataset(*key)
        except BenchError as error:
            problems.append(f"dataset {key[0]}: {error}")
            continue
        shapes[key] = loaded.image_shape
        say(f"data: {loaded.name} from {loaded.source}, SHA-256 verified")
    problems += _robustness_problems(runs)
    problems += _save_model_problems(runs)
    for label, dataset, problem in _model_problems(runs, shapes, on_this_machine=not scheduler):
        problems.append(f"{label} on {dataset}: {problem}")
    if problems:
        raise BenchError(
            "nothing was trained; fix these first:\n  - " + "\n  - ".join(dict.fromkeys(problems))
        )
    remove_stale_temporaries(Path(results_dir) / "runs", recursive=True)


def _save_model_problems(runs: Sequence[RunSpec]) -> list[str]:
    """--save-model needs skops, the family's ONNX exporter and ONNX Runtime installed."""
    from bench.models.portable import INSTALL_HINT, missing_for_saving
    from bench.models.registry import get_model

    families = sorted({get_model(run.model).family for run in runs if run.save_model})
    problems = []
    for family in families:
        missing = missing_for_saving(family)
        if missing:
            problems.append(
                f"--save-model for {family} models needs {', '.join(missing)}: {INSTALL_HINT}"
            )
    return problems


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
