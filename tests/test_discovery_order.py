"""What is registered does not depend on what happened to be imported: a metric that a
plugin's model file declares is a column of the leaderboard that ``bench run`` writes and of
the one ``bench report`` writes from the same records, in fresh processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = '''
import numpy as np

from bench.measure.metrics import register_metric
from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model


@register_metric("top2_accuracy", title="Top-2 accuracy", higher_is_better=True, fmt="{:.2%}",
                 needs=("labels", "probabilities"))
def top2_accuracy(labels, predictions, probabilities):
    best_two = np.argsort(probabilities, axis=1)[:, -2:]
    return float(np.mean((best_two == np.asarray(labels)[:, None]).any(axis=1)))


@register_model(family="sklearn", preprocess=flatten_and_scale, config={"C": 1.0})
def plugin_logreg(config, input_shape, num_classes):
    """Logistic regression from a plugin package."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=config["C"], max_iter=50)
'''


def _bench(args: list[str], plugin_dir: Path, home: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin_dir), str(ROOT)]),
        "MNIST_BENCH_HOME": str(home),
    }
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], env=env, capture_output=True, text=True, timeout=300
    )


REGISTRIES = {
    "models": "bench.models.registry:REGISTRY",
    "families": "bench.models.family:FAMILIES",
    "datasets": "bench.data.registry:DATASETS",
    "metrics": "bench.measure.metrics:METRICS",
    "executors": "bench.run.executors:EXECUTORS",
    "trackers": "bench.results.tracking:TRACKERS",
}
LIST_NAMES = """
import importlib, json, sys
names = {}
for key, where in json.loads(sys.argv[1]):
    module, attribute = where.split(":")
    names[key] = getattr(importlib.import_module(module), attribute).names()
print(json.dumps(names))
"""


def _plugin_site(tmp_path: Path) -> Path:
    """A folder holding an installed plugin: its module and its dist-info with an entry point."""
    plugin_dir = tmp_path / "site"
    plugin_dir.mkdir()
    (plugin_dir / "plugin_models.py").write_text(textwrap.dedent(PLUGIN))
    info = plugin_dir / "mnist_bench_plugin-0.1.dist-info"
    info.mkdir()
    metadata = "Metadata-Version: 2.1\nName: mnist-bench-plugin\nVersion: 0.1\n"
    (info / "METADATA").write_text(metadata)
    (info / "entry_points.txt").write_text("[mnist_bench.architectures]\nplugin = plugin_models\n")
    return plugin_dir


def _names_in_order(order: list[str], plugin_dir: Path) -> dict[str, list[str]]:
    """Each registry's names, read in a fresh process in ``order`` (first imported first)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), str(ROOT)])}
    pairs = json.dumps([(key, REGISTRIES[key]) for key in order])
    done = subprocess.run(
        [sys.executable, "-c", LIST_NAMES, pairs], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("first", list(REGISTRIES))
def test_every_registry_has_the_same_names_whatever_is_imported_first(first, tmp_path):
    plugin_dir = _plugin_site(tmp_path)
    alone = _names_in_order([first], plugin_dir)
    after_all = _names_in_order([*(k for k in REGISTRIES if k != first), first], plugin_dir)
    assert alone[first] == after_all[first]
    if first == "metrics":
        assert "top2_accuracy" in alone[first], "a metric a plugin's model file declares"
    if first == "models":
        assert "plugin_logreg" in alone[first]


def test_a_plugin_metric_is_a_column_of_run_and_report_leaderboards(tmp_path):
    plugin_dir = _plugin_site(tmp_path)
    results, home = tmp_path / "results", tmp_path / "home"
    run = _bench(
        ["run", "--model", "plugin_logreg", "--dataset", "digits", "--results-dir", str(results)],
        plugin_dir,
        home,
    )
    assert run.returncode == 0, run.stderr
    for page in ("RUNS.md", "index.html"):  # the full table and the dashboard's
        assert "Top-2 accuracy" in (results / page).read_text(), page
        (results / page).unlink()
    report = _bench(["report", "--results-dir", str(results)], plugin_dir, home)
    assert report.returncode == 0, report.stderr
    for page in ("RUNS.md", "index.html"):
        assert "Top-2 accuracy" in (results / page).read_text(), page
