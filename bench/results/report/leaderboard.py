"""Write LEADERBOARD.md, RUNS.md and the figures: the one place of the report with files and a
clock. What it writes is computed by :mod:`bench.results.report.aggregate`, rendered by
:mod:`bench.results.report.markdown` and drawn by :mod:`bench.results.report.figures`.

Drawing is most of a report's time, so the figures of a dataset are drawn again only when
what they show changed: ``figures/manifest.json`` keeps, per dataset, the fingerprint of the
data its figures were drawn from (and of the drawing code) and the files it wrote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.core.fsutil import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    remove_stale_temporaries,
)
from bench.core.safe_io import check_output_path, read_json
from bench.results.report.markdown import LEADERBOARD_FILE, RUNS_FILE

STAMP_FORMAT = "%Y-%m-%d %H:%M UTC"
MANIFEST_FILE = "manifest.json"
MANIFEST_LIMIT = 2**20
"""Largest figures manifest read, in bytes."""


def write_leaderboard(
    results_dir: Path,
    now: datetime | None = None,
    robustness_baseline: str | None = None,
    redraw: bool = False,
    declared_subsets: Mapping[str, int | None] | None = None,
) -> Path:
    """Regenerate ``LEADERBOARD.md``, ``RUNS.md`` and ``figures/`` under ``results_dir``.

    Reads every record once; ``now`` (default: the current UTC time) is the stamp printed at
    the top. A dataset's figures are redrawn when their data or the drawing code changed, or
    with ``redraw=True``. PNGs under ``figures/`` that the leaderboard does not link are
    removed. ``declared_subsets`` (model -> robustness subset it declares now) makes records
    scored on other images stale. Returns the leaderboard's path.
    """
    from bench.results.report.aggregate import aggregate
    from bench.results.report.markdown import leaderboard_markdown, runs_markdown
    from bench.results.store.stale import current_records

    results_dir = Path(results_dir)
    stamp = (now or datetime.now(timezone.utc)).strftime(STAMP_FORMAT)
    record_set = current_records(results_dir, declared_subsets)
    agg = aggregate(record_set.current, robustness_baseline=robustness_baseline)
    path = results_dir / LEADERBOARD_FILE
    try:
        remove_stale_temporaries(results_dir, recursive=True)
        links = _write_figures(agg, results_dir, redraw, _corruption_samples(agg))
        atomic_write_text(
            path,
            leaderboard_markdown(agg, generated=stamp, figures=links, stale=record_set.stale),
        )
        atomic_write_text(
            results_dir / RUNS_FILE, runs_markdown(agg, generated=stamp, stale=record_set.stale)
        )
    except OSError as error:
        raise BenchError(
            f"cannot write the leaderboard under {results_dir} ({error.strerror or error}); "
            "the records are untouched. Make the folder writable, or copy it and point "
            "--results-dir at the copy"
        ) from None
    return path


def output_problems(results_dir: Path) -> list[str]:
    """What would stop :func:`write_leaderboard` from writing under ``results_dir`` (a folder
    where a report file goes, a file where ``figures/`` goes, a folder it cannot write), so
    ``bench run`` can refuse before training; empty when nothing would."""
    from bench.results.report.figures import FIGURES_DIR

    outputs = (LEADERBOARD_FILE, RUNS_FILE, f"{FIGURES_DIR}/{MANIFEST_FILE}")
    problems = []
    for name in outputs:
        try:
            check_output_path(Path(results_dir) / name, parents=True, option="the report file")
        except BenchError as error:
            problems.append(str(error))
    return problems


def _write_figures(
    agg: Any, results_dir: Path, redraw: bool, samples: dict[str, Any]
) -> dict[str, list[tuple[str, str]]]:
    """Draw (or keep) every dataset's figures; return their captions and paths by dataset."""
    from bench.results.report.figure_style import png_bytes
    from bench.results.report.figures import FIGURES_DIR, dataset_views, draw_dataset

    folder = results_dir / FIGURES_DIR
    old = {} if redraw else _read_manifest(folder / MANIFEST_FILE)
    code = drawing_code_version()
    manifest: dict[str, Any] = {}
    links: dict[str, list[tuple[str, str]]] = {}
    for view in dataset_views(agg, samples):
        key = view.fingerprint(code)
        figures = _kept(old.get(view.dataset), key, results_dir)
        if figures is None:
            figures = []
            for drawn in draw_dataset(view):
                atomic_write_bytes(results_dir / drawn.path, png_bytes(drawn.figure))
                figures.append((drawn.caption, drawn.path))
        links[view.dataset] = figures
        manifest[view.dataset] = {"key": key, "figures": [list(f) for f in figures]}
    linked = {results_dir / p for figures in links.values() for _, p in figures}
    if folder.is_dir():
        for png in folder.glob("*.png"):
            if png not in linked:
                png.unlink()
    if manifest or folder.is_dir():
        atomic_write_json(folder / MANIFEST_FILE, manifest)
    return links


SAMPLE_IMAGES = 5


def _corruption_samples(agg: Any) -> dict[str, Any]:
    """The first test images and labels of each dataset with robustness results (for the grid
    of corrupted samples); a dataset that cannot be loaded here gets no grid."""
    from bench.data import load_dataset

    samples = {}
    for dataset in agg.corruptions["dataset"].unique():
        try:
            data = load_dataset(dataset)
        except Exception:  # noqa: BLE001 - no data here: the report goes on without the grid
            continue
        samples[dataset] = (data.x_test[:SAMPLE_IMAGES], data.y_test[:SAMPLE_IMAGES])
    return samples


def drawing_code_version() -> str:
    """SHA-256 of the modules that draw the figures and of matplotlib's version."""
    from importlib.metadata import version

    from bench.data import corruptions
    from bench.results.report import figure_style, figures

    digest = hashlib.sha256(version("matplotlib").encode())
    names = ("calibration_figures.py", "robustness_figures.py")
    sources = [Path(figures.__file__), Path(figure_style.__file__)]
    sources += [Path(figures.__file__).with_name(name) for name in names]
    sources.append(Path(corruptions.__file__))
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _kept(entry: Any, key: str, results_dir: Path) -> list[tuple[str, str]] | None:
    """The figures a manifest entry lists, if drawn from the same key and all still there."""
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    try:
        figures = [(str(caption), str(path)) for caption, path in entry["figures"]]
    except (KeyError, TypeError, ValueError):
        return None
    if not all((results_dir / path).is_file() for _, path in figures):
        return None
    return figures


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the last report, or nothing when it is absent or unreadable."""
    try:
        data = read_json(path, limit=MANIFEST_LIMIT, inside=path.parent)
    except BenchError:
        return {}
    return data if isinstance(data, dict) else {}
