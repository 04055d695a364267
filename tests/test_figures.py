"""The written report: LEADERBOARD.md reads top-down, RUNS.md holds the detail, every figure is
a linked PNG, unchanged figures are kept, and ``bench report`` needs no TensorFlow. Records
come from real small fits (scikit-learn on digits, three seeds) and simulated models."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg
from scipy import stats as scipy_stats
from statsmodels.stats.contingency_tables import mcnemar
from synthetic_records import digits_records, simulated_records

from bench.cli import main
from bench.results.report.aggregate import aggregate
from bench.results.report.figures import dataset_views, slug
from bench.results.report.leaderboard import MANIFEST_FILE, write_leaderboard
from bench.results.stats.intervals import contingency_table, format_p_value
from bench.results.stats.pairwise import compare_models
from bench.results.store.files import record_path, write_record

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[1]


def with_robustness(record, rng):
    corruptions = {
        name: {"accuracy": float(record.accuracy - drop - rng.uniform(0, 0.02)), "n": 500}
        for name, drop in (("fog", 0.3), ("shot_noise", 0.05), ("rotate", 0.2))
    }
    robustness = {"corruptions": corruptions, "subset": None, "seconds": 1.0}
    return dataclasses.replace(record, robustness=robustness)


@pytest.fixture(scope="module")
def records():
    rng = np.random.default_rng(0)
    return [with_robustness(r, rng) for r in digits_records()]


@pytest.fixture(scope="module")
def results(tmp_path_factory, records):
    folder = tmp_path_factory.mktemp("results")
    for record in records:
        write_record(folder, record)
    write_leaderboard(folder, now=NOW)
    return folder


def test_every_figure_is_a_png_linked_from_a_page(results):
    text = (results / "LEADERBOARD.md").read_text() + (results / "RUNS.md").read_text()
    links = re.findall(r"\]\((figures/[^)]+\.png)\)", text)
    names = [
        "accuracy_vs_training_time",
        "accuracy_vs_inference_throughput",
        "pairwise",
        "per_class_f1",
        "confusion",
        "learning_curves",
        "reliability",
        "corruption_heatmap",
        "corruption_samples",
    ]
    assert sorted(set(links)) == sorted(f"figures/digits_{name}.png" for name in names)
    for link in links:
        path = results / link
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        height, width = mpimg.imread(path).shape[:2]
        assert 300 < height < 2000 and 500 < width < 2000, f"{link}: {width}x{height}"
    assert sorted(p.name for p in (results / "figures").iterdir()) == sorted(
        [link.split("/")[1] for link in set(links)] + [MANIFEST_FILE]
    ), "nothing else (no temporary files) in figures/"


def test_leaderboard_reads_top_down(results):
    text = (results / "LEADERBOARD.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# mnist-bench leaderboard",
        "## Verdicts and recommendation",
        "### digits (8x8)",
        "## digits (8x8)",
        "### Pairwise tests",
    ]
    assert "(newest 2026-11-30 12:00 UTC)" in " ".join(text.split())
    verdict = " ".join(text.split("## Verdicts")[1].split("\n## digits")[0].split())
    assert "**Tied for best** (differences below what the runs resolve): **logreg**" in verdict
    assert "and mlp. Its lead:" in verdict and "needs 2 more seeds of mlp" in verdict
    assert "Best calibrated of them: **mlp**, ECE" in verdict
    prose = [
        line for line in text.splitlines() if not line.startswith(("|", "![")) and "](" not in line
    ]
    assert max(len(line) for line in prose) <= 100, "prose is wrapped"
    table = [line for line in text.splitlines() if line.startswith("| Model ")]
    assert all(len(line) <= 110 for line in table), "the compact table fits 1,000 px"


def test_runs_page_holds_every_detail(results):
    text = (results / "RUNS.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# mnist-bench: every detail",
        "## digits (8x8)",
        "### Time to accuracy",
        "### Per class",
        "### Calibration",
        "### Robustness",
        "### Every run",
        "### Pairwise tests, every column",
        "### McNemar's exact test per common seed",
        "## Environment",
        "## How these numbers are made",
    ]


def test_main_table_and_notes(results, records):
    text = (results / "RUNS.md").read_text()
    header = next(
        line for line in text.splitlines() if line.startswith("| Model ") and "Params" in line
    )
    for column in ("MFLOPs / image", "Test acc % [95% CI]", "Log-loss", "Brier", "ECE"):
        assert column in header
    assert "Train s, median [min–max]" in header and "Defaults chosen by" in header
    mlp = [r for r in records if r.model == "mlp"]
    f1 = [r.metrics["macro_f1"] for r in mlp]
    half = scipy_stats.t.ppf(0.975, 2) * scipy_stats.sem(f1)
    mlp_cells = [
        c.strip()
        for c in next(line for line in text.splitlines() if line.startswith("| mlp ")).split("|")
    ]
    assert mlp_cells[7] == f"{np.mean(f1):.4f} ± {half:.4f}"
    assert mlp_cells[3] == f"{2 * mlp[0].parameters / 1e6:.3g}"
    clocks = sorted(r.train_seconds for r in mlp)
    assert mlp_cells[11] == f"{clocks[1]:.1f} [{clocks[0]:.1f}–{clocks[2]:.1f}]"
    accuracies = [r.accuracy for r in mlp]
    assert mlp_cells[6] == f"{100 * np.std(accuracies, ddof=1):.2f}", "seed sd, own column"
    ece = [r.metrics["ece"] for r in mlp]
    assert (
        mlp_cells[10]
        == f"{np.mean(ece):.2%} ± {scipy_stats.t.ppf(0.975, 2) * scipy_stats.sem(ece):.2%}"
    )
    logreg_row = next(line for line in text.splitlines() if line.startswith("| **logreg**"))
    assert "†" in logreg_row and "C from a 5-fold search" in logreg_row
    assert "± 0.00" not in text and "+/- 0.00" not in text
    flat = " ".join(text.split())
    assert "Note, logreg (seeds 0, 1, 2): lbfgs stopped at max_iter=30" in flat
    assert "the interval covers the test images only" in flat
    assert "Speeds: median [min–max] over the runs not flagged busy" in flat
    compact = (results / "LEADERBOARD.md").read_text()
    row = next(line for line in compact.splitlines() if line.startswith("| mlp "))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[2] == "3" and cells[3] == f"{np.mean(ece):.2%}" and cells[6] == "defaults"


def test_pairwise_row_matches_the_seed_level_test(results, records):
    pair = compare_models(records, "logreg", "mlp", "digits")
    text = (results / "RUNS.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| logreg vs mlp"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[2] == "3 / 3"
    assert cells[3].startswith(f"{100 * pair.difference.estimate:+.2f} [")
    assert cells[4] == format_p_value(pair.p_value)
    assert cells[5] == format_p_value(pair.p_value), "one test on the page: Holm changes nothing"
    assert cells[6] == "logreg ahead; needs 2 more seeds of mlp"
    text = (results / "LEADERBOARD.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| logreg vs mlp"))
    compact = [c.strip() for c in row.split("|")[1:-1]]
    assert compact == [cells[0], cells[3], cells[5], cells[6]]


def test_runs_file_has_every_run_and_mcnemar_per_seed(results, records):
    text = (results / "RUNS.md").read_text()
    assert text.count("[record](runs/") == len(records)
    for link in re.findall(r"\]\((runs/[^)]+)\)", text):
        assert (results / link).is_file()
    per_seed = text.split("### McNemar's exact test per common seed")[1]
    rows = [line for line in per_seed.splitlines() if line.startswith("| logreg vs mlp")]
    assert len(rows) == 3
    by_seed = {(r.model, r.seed): r for r in records}
    for row in rows:
        cells = [c.strip() for c in row.split("|")[1:-1]]
        a, b = by_seed[("logreg", int(cells[1]))], by_seed[("mlp", int(cells[1]))]
        table = contingency_table(a.test_labels, a.predictions, b.predictions)
        assert (int(cells[2]), int(cells[3])) == (table[0, 1], table[1, 0])
        assert cells[4] == format_p_value(mcnemar(table, exact=True).pvalue)
    assert "## Environment" in text


def test_unchanged_figures_are_kept_and_changed_ones_redrawn(results, records, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    figures = sorted((copy / "figures").glob("*.png"))
    stamps = {p: p.stat().st_mtime_ns for p in figures}
    for path in figures:
        os.utime(path, ns=(1, 1))
    write_leaderboard(copy, now=NOW)
    assert all(p.stat().st_mtime_ns == 1 for p in figures), "nothing changed: nothing redrawn"
    write_leaderboard(copy, now=NOW, redraw=True)
    assert all(p.stat().st_mtime_ns > 1 for p in figures) and stamps
    for path in figures:
        os.utime(path, ns=(1, 1))
    moved = dataclasses.replace(records[0], finished_at="2026-12-01T00:00:00+00:00")
    moved.timings = {**moved.timings, "clocks": {"train_seconds": 99.0, "wall_seconds": 100.0}}
    write_record(copy, moved)
    write_leaderboard(copy, now=NOW)
    assert (copy / "figures" / "digits_accuracy_vs_training_time.png").stat().st_mtime_ns > 1


def test_figures_of_models_no_longer_present_are_removed(results, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    for path in copy.glob("runs/*mlp*"):
        shutil.rmtree(path)
    write_leaderboard(copy, now=NOW)
    names = {p.name for p in (copy / "figures").iterdir()}
    assert "digits_pairwise.png" not in names and "digits_learning_curves.png" not in names
    assert "digits_confusion.png" in names
    assert "Only one model has runs here" in (copy / "LEADERBOARD.md").read_text()


def test_records_of_another_config_are_listed_not_used(results, records, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    old = next(r for r in records if r.model == "mlp" and r.seed == 0)
    changed = dataclasses.replace(
        old,
        run=dataclasses.replace(old.run, config={**old.config, "epochs": 2}),
        finished_at="2026-12-01T00:00:00+00:00",
    )
    write_record(copy, changed)
    write_leaderboard(copy, now=NOW)
    runs_text = (copy / "RUNS.md").read_text()
    assert "## Left out: stale records" in runs_text
    assert "other config than the newest run: epochs 4 (newest: 2)" in runs_text
    leaderboard = (copy / "LEADERBOARD.md").read_text()
    mlp_row = next(line for line in leaderboard.splitlines() if line.startswith("| mlp "))
    assert mlp_row.split("|")[3].strip() == "1", "only the newest config's run counts"
    assert "0 failed run(s) and 3 stale record(s)" in " ".join(leaderboard.split())


def test_one_colour_per_model_on_every_dataset():
    records = simulated_records(
        [("a", 0.99), ("b", 0.98), ("c", 0.97)],
        seeds=(0, 1),
        datasets=("mnist", "fashion_mnist"),
        n_test=500,
    )
    records = [r for r in records if not (r.model == "b" and r.dataset == "mnist")]
    views = dataset_views(aggregate(records))
    colors = [view.colors for view in views]
    assert colors[0]["a"] == colors[1]["a"] and colors[0]["c"] == colors[1]["c"]
    assert len(set(colors[1].values())) == 3


def test_report_command_needs_no_tensorflow(results, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bench", "report", "--results-dir", str(copy)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    assert "leaderboard written to" in done.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
    assert "tensorflow" not in imported and "keras" not in imported


def test_report_command_without_records_names_the_fix(tmp_path, capsys):
    assert main(["report", "--results-dir", str(tmp_path)]) == 2
    assert "train something first" in capsys.readouterr().err


def test_slug_makes_safe_file_names():
    assert slug("mlp:quick") == "mlp-quick"
    assert slug("a b/c") == "a-b-c"
    assert record_path(Path("r"), "x") == Path("r/runs/x/record.json")


def test_a_long_legend_wraps_into_columns_and_widens_the_figure_instead_of_squashing_it():
    from bench.results.report.figure_style import LEGEND_ROWS, side_legend, subplots

    fig, ax = subplots(figsize=(8.0, 5.0))
    for i in range(2 * LEGEND_ROWS + 1):
        ax.plot([0, 1], [i, i], label=f"model {i}")
    legend = side_legend(ax)
    assert legend._ncols == 3
    assert fig.get_size_inches()[0] > 8.0 * 1.5
    fig.canvas.draw()  # an axes squashed to nothing would make constrained layout warn
    assert ax.get_position().width > 0.2

    fig, ax = subplots(figsize=(8.0, 5.0))
    ax.plot([0, 1], [0, 1], label="one model")
    assert side_legend(ax)._ncols == 1
    assert tuple(fig.get_size_inches()) == (8.0, 5.0)
