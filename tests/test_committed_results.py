"""The leaderboard built from the schema-1 records the project once committed (kept under
tests/data/schema1, read through the record migration) shows the accuracies they hold."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from bench.results.report.leaderboard import write_leaderboard

COMMITTED = Path(__file__).resolve().parent / "data" / "schema1" / "runs"


@pytest.fixture(scope="module")
def leaderboard(tmp_path_factory):
    if not any(COMMITTED.glob("*/record.json")):
        pytest.skip("no committed records under results/runs")
    folder = tmp_path_factory.mktemp("committed")
    for record in COMMITTED.glob("*/record.json"):
        target = folder / "runs" / record.parent.name
        target.mkdir(parents=True)
        shutil.copy(record, target / "record.json")
    write_leaderboard(folder, now=datetime(2026, 11, 30, tzinfo=timezone.utc))
    return (folder / "LEADERBOARD.md").read_text()


def mean_accuracy_from_json() -> dict[tuple[str, str], float]:
    """Mean test accuracy per (dataset, model label), straight from the JSON files."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for path in COMMITTED.glob("*/record.json"):
        data = json.loads(path.read_text())
        if data["status"] != "ok":
            continue
        label = (
            data["model"] if data["preset"] == "default" else f"{data['model']}:{data['preset']}"
        )
        values[(data["dataset"], label)].append(data["metrics"]["accuracy"])
    return {key: float(np.mean(v)) for key, v in values.items()}


def main_table_accuracy(text: str) -> dict[tuple[str, str], str]:
    """The accuracy cell (its mean) of every main-table row, by (section, model)."""
    found, section, columns = {}, None, None
    for line in text.splitlines():
        if line.startswith("## "):
            section, columns = line[3:], None
        elif line.startswith("| Model ") and "Test acc % [95% CI]" in line:
            columns = [c.strip() for c in line.split("|")[1:-1]]
        elif columns and line.startswith("|") and not line.startswith("|--"):
            cells = [c.strip() for c in line.split("|")[1:-1]]
            model = cells[0].strip("*")
            found[(section, model)] = cells[columns.index("Test acc % [95% CI]")].split()[0]
        elif not line.startswith("|"):
            columns = None if line.strip() else columns
    return found


def test_committed_records_keep_their_accuracy(leaderboard):
    expected = mean_accuracy_from_json()
    shown = main_table_accuracy(leaderboard)
    assert len(expected) == 8, "4 models x 2 datasets were committed"
    for (dataset, model), mean in expected.items():
        section = next(s for s, m in shown if m == model and s.lower().replace("-", "_") == dataset)
        assert shown[(section, model)] == f"{100 * mean:.2f}", (dataset, model)
    # the numbers the previous leaderboard and the README quote
    assert round(expected[("mnist", "article_cnn")], 4) == 0.9437
    assert round(expected[("mnist", "cnn_fast")], 4) == 0.9914
    assert round(expected[("fashion_mnist", "mlp")], 4) == 0.8965


def test_committed_leaderboard_has_verdicts_tests_and_the_method(leaderboard):
    assert leaderboard.index("## Verdicts") < leaderboard.index("### Pairwise tests")
    assert leaderboard.index("### Pairwise tests") < leaderboard.index("## Across datasets")
    assert "how the numbers are made are in [RUNS.md](RUNS.md)" in " ".join(leaderboard.split())
    assert "<0.0001" not in leaderboard and "| 0 |" not in leaderboard
    # logreg's three seeds made the same predictions: Wilson interval, no "± 0.00"
    assert "± 0.00 " not in leaderboard and "†" in leaderboard
