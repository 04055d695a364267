"""``bench benchmarks`` renders a real pytest-benchmark JSON (made by a tiny suite here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main

TINY_SUITE = """
import pytest

@pytest.mark.benchmark(group="arithmetic")
@pytest.mark.parametrize("n", [100, 1000])
def test_sum(benchmark, n):
    benchmark.extra_info["images_per_call"] = n
    benchmark.extra_info["note"] = "plain sum"
    assert benchmark(sum, range(n)) == n * (n - 1) // 2
"""


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where a tiny benchmark suite autosaved one real JSON file."""
    folder = tmp_path_factory.mktemp("tiny-suite")
    (folder / "test_tiny.py").write_text(TINY_SUITE, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--benchmark-only",
            "--benchmark-autosave",
            f"--benchmark-storage={folder / 'store'}",
            "--benchmark-max-time=0.05",
            str(folder / "test_tiny.py"),
        ],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return folder / "store"


def test_renders_the_newest_autosaved_json(storage: Path, tmp_path: Path, capsys) -> None:
    assert main(["benchmarks", "--storage", str(storage), "--results-dir", str(tmp_path)]) == 0
    text = (tmp_path / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert "## arithmetic" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[0].split("|")[1].strip() == "Benchmark"
    assert "Images/call" in table[0] and "Median (ms)" in table[0]
    rows = {line.split("|")[1].strip(): line for line in table[1:]}
    assert set(rows) == {"100", "1000"}
    assert "1,000" in rows["1000"] and "note=plain sum" in rows["1000"]
    assert "written to" in capsys.readouterr().out


def test_missing_or_wrong_json_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["benchmarks", "--storage", str(tmp_path / "none")]) == 2
    assert "pytest --benchmark-only --benchmark-autosave" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text('{"records": []}', encoding="utf-8")
    assert main(["benchmarks", "--json", str(other), "--results-dir", str(tmp_path)]) == 2
    assert "not a pytest-benchmark JSON" in capsys.readouterr().err


def test_target_groups_come_first_with_their_ratio_and_verdict() -> None:
    from bench.commands.benchmarks import benchmarks_markdown

    def bench(group: str, median: float, **extra: object) -> dict:
        stats = {"median": median, "iqr": 0.0, "min": median, "rounds": 1}
        return {"group": group, "name": f"test_{median}", "stats": stats, "extra_info": extra}

    data = {
        "benchmarks": [
            bench("train step", 0.01, images_per_s=3200.0),
            bench("target 10: later", 1.0, target="x", target_met=False, ratio=0.5),
            bench("target 2: article", 2.0, target="ratio >= 1.5", target_met=True, ratio=2.25),
            bench("report", 0.5),
            bench("target 1: cnn_fast", 3.0, target="<= 2.5 s", target_met=None, seeds=5),
        ]
    }
    text = benchmarks_markdown(data, "x.json")
    order = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert order == [
        "target 1: cnn_fast",
        "target 2: article",
        "target 10: later",
        "report",
        "train step",
    ]
    article = next(line for line in text.splitlines() if "ratio >= 1.5" in line)
    header = text.splitlines()[text.splitlines().index(article) - 2]
    assert "Met" in header and "Ratio (peer / ours)" in header
    cells = [cell.strip() for cell in article.split("|")]
    assert "yes" in cells and "2.25" in cells
    cnn = [
        cell.strip()
        for cell in next(row for row in text.splitlines() if "<= 2.5 s" in row).split("|")
    ]
    assert "-" in cnn and "seeds=5" in cnn
