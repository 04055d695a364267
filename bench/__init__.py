"""mnist-bench: a benchmark and architecture-comparison harness for MNIST-style classification.

Reading results from Python:

- :func:`load_results`: a results folder (or a file ``bench export`` wrote) as a
  :class:`pandas.DataFrame`, one row per run;
- :func:`load_records`: the typed run records of a results folder.

Importing ``bench`` is cheap: pandas and the record code load when these functions are called,
and TensorFlow never does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bench.core.version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from bench.results.store.record import RunRecord

__all__ = ["__version__", "load_records", "load_results"]


def load_results(
    path: str | Path, table: Literal["runs", "per_class", "per_epoch"] = "runs"
) -> pd.DataFrame:
    """Load benchmark results as a table: one row per run (or per run and class, or epoch).

    Parameters
    ----------
    path:
        A results folder (the one holding ``runs/<run-id>/record.json``), or a file that
        ``bench export`` wrote (``.csv``, ``.parquet`` or ``.jsonl``; then ``table`` is
        whatever that file holds).
    table:
        ``"runs"`` (default), ``"per_class"`` or ``"per_epoch"``. The columns are listed in
        ``docs/export.md``; ``current`` is True for the records the leaderboard uses.

    Returns
    -------
    pandas.DataFrame
        Oldest run first; failed runs are rows with ``status == "failed"`` and no metrics.

    Raises
    ------
    bench.core.errors.BenchError
        When ``path`` does not exist or is a file of unknown format.

    Examples
    --------
    >>> import contextlib, io, tempfile
    >>> import bench, bench.cli
    >>> results = tempfile.mkdtemp()
    >>> argv = ["run", "--model", "logreg:quick", "--dataset", "digits"]
    >>> with contextlib.redirect_stdout(io.StringIO()):  # progress lines
    ...     exit_code = bench.cli.main([*argv, "--results-dir", results, "--no-report"])
    >>> exit_code
    0
    >>> frame = bench.load_results(results)
    >>> frame[["label", "dataset", "seed", "status", "n_test"]].to_dict("records")
    [{'label': 'logreg:quick', 'dataset': 'digits', 'seed': 0, 'status': 'ok', 'n_test': 450}]
    >>> bool(0.9 < frame.loc[0, "accuracy"] <= 1.0)
    True
    >>> per_class = bench.load_results(results, table="per_class")
    >>> int(per_class["support"].sum()), sorted(per_class["class_name"])[:3]
    (450, ['0', '1', '2'])
    """
    from bench.results.export.table import SUFFIXES, read_table, results_table

    path = Path(path)
    if path.suffix.lower() in SUFFIXES and not path.is_dir():
        return read_table(path)
    return results_table(path, table)


def load_records(path: str | Path) -> list[RunRecord]:
    """Every readable run record under the results folder ``path``, oldest first.

    Unreadable files are skipped (``bench report`` lists them with the reason). Each
    :class:`~bench.results.store.record.RunRecord` carries the run's spec (``record.run``), metrics,
    timings, history, environment and predictions.

    Example
    -------
    >>> import bench
    >>> bench.load_records("a/folder/that/does/not/exist")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bench.core.errors.BenchError: no results folder a/folder/that/does/not/exist: ...
    """
    from bench.results.export.table import check_results_dir
    from bench.results.store.files import load_records as read_all

    return read_all(check_results_dir(Path(path)))
