"""Figures and the leaderboard layout, from real small runs (digits: an MLP and a linear model,
two seeds each)."""

from __future__ import annotations

import re
import shutil

import pytest
from bench.executor import run_in_process
from bench.figures import slug
from bench.report import write_leaderboard
from bench.selection import build_runs
from bench.stats import contingency_table, format_p_value
from matplotlib import image as mpimg
from statsmodels.stats.contingency_tables import mcnemar

from bench.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Two seeds of mlp:quick (2 epochs) and logreg:quick on digits, leaderboard written."""
    folder = tmp_path_factory.mktemp("results")
    runs = build_runs(["mlp:quick", "logreg:quick"], ["digits"], [0, 1])
    records = run_in_process(runs, folder, say=lambda line: None)
    assert [r["status"] for r in records] == ["ok"] * 4
    write_leaderboard(folder)
    return folder


def test_every_figure_is_a_png_linked_from_the_leaderboard(results):
    leaderboard = (results / "LEADERBOARD.md").read_text()
    links = re.findall(r"\]\((figures/[^)]+\.png)\)", leaderboard)
    expected = {
        "figures/digits_accuracy_vs_training_time.png",
        "figures/digits_accuracy_vs_inference_throughput.png",
        "figures/digits_per_class_precision.png",
        "figures/digits_mlp-quick_confusion.png",
        "figures/digits_mlp-quick_learning_curves.png",
        "figures/digits_logreg-quick_confusion.png",
    }
    assert set(links) == expected, "one fit of a linear model has no learning curve"
    for link in links:
        path = results / link
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        height, width = mpimg.imread(path).shape[:2]
        assert 300 < height < 1200 and 500 < width < 2000, f"{link}: {width}x{height}"
    assert sorted(p.name for p in (results / "figures").iterdir()) == sorted(
        link.split("/")[1] for link in expected
    ), "nothing else (no temporary files) in figures/"


def test_leaderboard_shows_intervals_pairwise_tests_and_per_run_values(results):
    text = (results / "LEADERBOARD.md").read_text()
    main_rows = [line for line in text.splitlines() if line.startswith("| **") or "| mlp" in line]
    assert main_rows and all(" ± " in row for row in main_rows[:2])
    assert "95% t-interval over seeds" in text
    assert "### Pairwise comparisons" in text and "Holm-adjusted p" in text
    pair_row = next(
        line
        for line in text.splitlines()
        if line.startswith(("| mlp:quick vs", "| logreg:quick vs"))
    )
    assert "logreg:quick vs mlp:quick" in pair_row or "mlp:quick vs logreg:quick" in pair_row
    assert "Wilson 95% (%)" in text
    assert text.count("[record](runs/") == 4
    for link in re.findall(r"\]\((runs/[^)]+)\)", text):
        assert (results / link).is_file()


def test_pairwise_row_matches_statsmodels_on_the_stored_predictions(results):
    import json

    records = {}
    for path in results.glob("runs/*/record.json"):
        record = json.loads(path.read_text())
        records[(record["model"], record["seed"])] = record
    worst = 0.0
    for seed in (0, 1):
        a, b = records[("mlp", seed)], records[("logreg", seed)]
        table = contingency_table(a["test_labels"], a["predictions"], b["predictions"])
        worst = max(worst, mcnemar(table, exact=True).pvalue)
    text = (results / "LEADERBOARD.md").read_text()
    row = next(
        line
        for line in text.splitlines()
        if line.startswith(("| mlp:quick vs", "| logreg:quick vs"))
    )
    shown = row.split("|")[5].strip()
    assert shown == format_p_value(worst)


def test_figures_of_models_no_longer_present_are_removed(results, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    for path in copy.glob("runs/*mlp*"):
        shutil.rmtree(path)
    write_leaderboard(copy)
    names = {p.name for p in (copy / "figures").iterdir()}
    assert f"digits_{slug('mlp:quick')}_confusion.png" not in names
    assert "digits_logreg-quick_confusion.png" in names
    assert "Only one model has runs here" in (copy / "LEADERBOARD.md").read_text()


def test_compare_command_on_real_runs(results, capsys):
    import json

    assert main(["compare", "mlp:quick", "logreg:quick", "--results-dir", str(results)]) == 0
    out = capsys.readouterr().out
    assert "on digits: 450 test images, 2 common seed(s)" in out
    assert "verdict: " in out
    seed_rows = [re.split(r"\s{2,}", line) for line in out.splitlines() if line[:1].isdigit()]
    assert [row[0] for row in seed_rows] == ["0", "1"]
    for row in seed_rows:
        a = json.loads(
            next(results.glob(f"runs/*mlp.quick--seed{row[0]}*/record.json")).read_text()
        )
        b = json.loads(
            next(results.glob(f"runs/*logreg.quick--seed{row[0]}*/record.json")).read_text()
        )
        table = contingency_table(a["test_labels"], a["predictions"], b["predictions"])
        assert float(row[5]) == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-3)
        assert int(row[3]) == table[0, 1] and int(row[4]) == table[1, 0]


def test_slug_makes_safe_file_names():
    assert slug("mlp:quick") == "mlp-quick"
    assert slug("a b/c") == "a-b-c"
