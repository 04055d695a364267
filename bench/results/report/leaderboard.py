"""Write LEADERBOARD.md, RUNS.md, index.html and the figures: the one place of the report
with files. What it writes is computed by :mod:`bench.results.report.aggregate`, rendered by
the report sections (:mod:`bench.results.report.sections`) and drawn by
:mod:`bench.results.report.figures`.

Drawing is most of a report's time, so the figures of a dataset are drawn again only when
what they show changed: ``figures/manifest.json`` keeps, per dataset, the fingerprint of the
data its figures were drawn from (and of the drawing code) and the files it wrote.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.core.fsutil import (
    atomic_write_bytes,
    remove_stale_temporaries,
)
from bench.core.safe_io import check_output_path, read_json
from bench.results.report.html_page import write_if_changed
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
    html_path: Path | None = None,
) -> Path:
    """Regenerate ``LEADERBOARD.md``, ``RUNS.md``, ``index.html`` and ``figures/`` under
    ``results_dir`` (the dashboard at ``html_path`` when given).

    Reads every record once. The stamp printed at the top is ``now`` when given, else the
    finish time of the newest record, so a report of unchanged records is unchanged; a page
    whose text did not change is not written again. A dataset's figures are redrawn when
    their data or the drawing code changed, or with ``redraw=True``. PNGs under ``figures/``
    that no page links are removed. ``declared_subsets`` (model -> robustness subset it
    declares now) makes records scored on other images stale. Returns the leaderboard's path.
    """
    from bench.results.report.aggregate import aggregate
    from bench.results.report.frames_tuning import TUNING_FRAME, load_trial_records, trial_frame
    from bench.results.report.html_page import HTML_FILE, dashboard_html, write_dashboard
    from bench.results.report.markdown import leaderboard_markdown, runs_markdown
    from bench.results.report.sections import build_section_frames
    from bench.results.store.stale import current_records

    results_dir = Path(results_dir)
    record_set = current_records(results_dir, declared_subsets)
    stamp = (now or newest_finish(record_set.current)).strftime(STAMP_FORMAT)
    _note_tuned_presets(results_dir, record_set.current)
    agg = aggregate(record_set.current, robustness_baseline=robustness_baseline)
    build_section_frames([r for r in record_set.current if r.ok], agg)
    agg.extra[TUNING_FRAME] = trial_frame(load_trial_records(results_dir))
    path = results_dir / LEADERBOARD_FILE
    stale = record_set.stale
    try:
        remove_stale_temporaries(results_dir, recursive=True)
        links = _write_figures(agg, results_dir, redraw, _corruption_samples(agg))
        pages = {
            path: leaderboard_markdown(agg, generated=stamp, figures=links, stale=stale),
            results_dir / RUNS_FILE: runs_markdown(
                agg, generated=stamp, figures=links, stale=stale
            ),
        }
        for target, text in pages.items():
            write_if_changed(target, text)
        write_dashboard(
            html_path or results_dir / HTML_FILE,
            dashboard_html(agg, generated=stamp, stale=stale),
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


def _note_tuned_presets(results_dir: Path, records: Any) -> None:
    """A tuned preset's records say how it was chosen ("bench tune, N trials of S s each"),
    read from its preset file: that is what "Defaults chosen by" shows for them."""
    from bench.results.report.frames_tuning import tuned_note

    for record in records:
        note = tuned_note(results_dir, record)
        if note:
            record.model_info = {**(record.model_info or {}), "tuning": note}


def newest_finish(records: Any) -> datetime:
    """The finish time of the newest record (the epoch when there is none)."""
    times = [datetime.fromisoformat(r.finished_at) for r in records if r.finished_at]
    newest = max(times, default=datetime(1970, 1, 1, tzinfo=timezone.utc))
    return newest if newest.tzinfo else newest.replace(tzinfo=timezone.utc)


def _write_figures(
    agg: Any, results_dir: Path, redraw: bool, samples: dict[str, Any]
) -> dict[str, dict[str, str]]:
    """Draw (or keep) every dataset's figures; return their paths by dataset and figure id."""
    from bench.results.report.figure_style import png_bytes
    from bench.results.report.figures import FIGURES_DIR, dataset_views, draw_dataset

    folder = results_dir / FIGURES_DIR
    old = {} if redraw else _read_manifest(folder / MANIFEST_FILE)
    code = drawing_code_version()
    manifest: dict[str, Any] = {}
    links: dict[str, dict[str, str]] = {}
    for view in dataset_views(agg, samples):
        key = view.fingerprint(code)
        figures = _kept(old.get(view.dataset), key, results_dir)
        if figures is None:
            figures = {}
            for drawn in draw_dataset(view):
                atomic_write_bytes(results_dir / drawn.path, png_bytes(drawn.figure))
                figures[drawn.figure_id] = drawn.path
        links[view.dataset] = figures
        manifest[view.dataset] = {"key": key, "figures": figures}
    linked = {results_dir / p for figures in links.values() for p in figures.values()}
    if folder.is_dir():
        for png in folder.glob("*.png"):
            if png not in linked:
                png.unlink()
    if manifest or folder.is_dir():
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        write_if_changed(folder / MANIFEST_FILE, text)
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


def _kept(entry: Any, key: str, results_dir: Path) -> dict[str, str] | None:
    """The figures a manifest entry lists (id -> path), if drawn from the same key and all
    still there."""
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    figures = entry.get("figures")
    if not isinstance(figures, dict):
        return None
    figures = {str(k): str(v) for k, v in figures.items()}
    if not all((results_dir / path).is_file() for path in figures.values()):
        return None
    return figures


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the last report, or nothing when it is absent or unreadable."""
    try:
        data = read_json(path, limit=MANIFEST_LIMIT, inside=path.parent)
    except BenchError:
        return {}
    return data if isinstance(data, dict) else {}
