"""The run options declared once: each row gives the ``bench run`` flag, the sweep-file key,
the :class:`~bench.run.sweep.Sweep` field and, where a run carries it, the
:class:`~bench.core.spec.RunSpec` field, all under one name.

The options with a shape of their own (``--model``/``--all``, ``--dataset``, ``--seed`` and
``--repeats``, ``--set``, ``--backend``, ``--robustness``/``--robustness-from``, ``--track``,
``--no-report``) are declared in :mod:`bench.run.sweep` and :mod:`bench.commands.run`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bench.results.store.files import DEFAULT_RESULTS_DIR
from bench.run.selection import QUICK_LIMIT_TRAIN

Kind = Literal["switch", "count", "text", "path"]

EXPECTS: Mapping[Kind, str] = {
    "switch": "true or false",
    "count": "a positive number",
    "text": "a non-empty text",
    "path": "a folder",
}


@dataclass(frozen=True)
class RunOption:
    """One option of ``bench run``: ``name`` is its Sweep field, sweep-file key and (with
    ``in_run``) RunSpec field; ``--name-with-dashes`` is its flag."""

    name: str
    kind: Kind
    help: str
    expects: str = ""
    metavar: str | None = None
    default: Any = None
    in_run: bool = False

    @property
    def flag(self) -> str:
        """The command-line flag: ``limit_train`` -> ``--limit-train``."""
        return "--" + self.name.replace("_", "-")

    @property
    def requirement(self) -> str:
        """What a sweep file's value must be, for its error message."""
        return self.expects or EXPECTS[self.kind]

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Add the flag to ``parser``; an option not given on the command line is None."""
        if self.kind == "switch":
            parser.add_argument(self.flag, action="store_true", default=None, help=self.help)
            return
        kind = {"count": int, "path": Path, "text": str}[self.kind]
        parser.add_argument(self.flag, type=kind, metavar=self.metavar, help=self.help)

    def resolve(self, flag: Any, file: Mapping[str, Any]) -> Any:
        """The flag's value, else the sweep file's, else the default."""
        value = flag if flag is not None else file.get(self.name, self.default)
        if self.kind == "switch":
            return bool(value)
        if self.kind == "path" and value is not None:
            return Path(value)
        return value


OPTIONS: tuple[RunOption, ...] = (
    RunOption(
        "quick",
        "switch",
        "smoke run: each model's 'quick' preset and the first "
        f"{QUICK_LIMIT_TRAIN:,} training images",
        default=False,
    ),
    RunOption(
        "limit_train",
        "count",
        "train on the first N images",
        "a positive number of training images",
        metavar="N",
        in_run=True,
    ),
    RunOption(
        "limit_test",
        "count",
        "test on the first N images",
        "a positive number of test images",
        metavar="N",
        in_run=True,
    ),
    RunOption(
        "deterministic",
        "switch",
        "make the framework's kernels deterministic: TensorFlow op determinism, PyTorch "
        "deterministic algorithms (slower; recorded in each record)",
        default=False,
        in_run=True,
    ),
    RunOption(
        "data_dir",
        "text",
        "folder with the dataset's IDX files (raw or .gz)",
        "a folder holding the dataset's IDX files",
        in_run=True,
    ),
    RunOption(
        "executor",
        "text",
        "where runs train: 'local' (default) one after another in this process, 'dask' "
        "one task per run on a Dask cluster (pip install 'mnist-bench[dask]')",
        'an executor name ("local", "dask")',
    ),
    RunOption(
        "scheduler",
        "text",
        "Dask scheduler to send runs to, e.g. tcp://HOST:8786 (implies --executor dask); "
        "without it, --executor dask starts a local cluster with one worker per core",
        "a Dask scheduler address, e.g. tcp://HOST:8786",
        metavar="ADDRESS",
    ),
    RunOption(
        "resume",
        "switch",
        "skip runs that already have an ok record of the same config and schema; "
        "rerun failed or missing ones",
        default=False,
    ),
    RunOption(
        "results_dir",
        "path",
        f"where records go (default: {DEFAULT_RESULTS_DIR})",
        "the results folder",
        default=DEFAULT_RESULTS_DIR,
    ),
    RunOption(
        "save_model",
        "switch",
        "keep each trained model beside its record (Keras .keras, PyTorch state_dict and "
        "exported program, scikit-learn skops) with its ONNX export, checked against the "
        "native model and timed under ONNX Runtime (docs/saved-models.md)",
        "true or false (keep each trained model and its ONNX export)",
        default=False,
        in_run=True,
    ),
    RunOption(
        "tracking_uri",
        "text",
        "MLflow tracking server or store (default: $MLFLOW_TRACKING_URI, else "
        "RESULTS/mlflow/mlflow.db)",
        "an MLflow tracking URI",
        metavar="URI",
    ),
)
"""The simple run options, in the order ``bench run --help`` lists them."""


def run_fields(values: Any) -> dict[str, Any]:
    """The RunSpec fields among the options, read from ``values`` (a Sweep)."""
    return {option.name: getattr(values, option.name) for option in OPTIONS if option.in_run}
