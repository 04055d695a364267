"""Fashion-MNIST: 70,000 28x28 images of clothing in 10 classes, from Zalando Research.

The checksums below were computed from the files of Debian's ``dataset-fashion-mnist`` package
(each class has 6,000 train and 1,000 test images in them, as published).
"""

from __future__ import annotations

from pathlib import Path

from bench.data.dataset import Dataset
from bench.data.folder import FolderSource
from bench.data.loader import load_idx_dataset, verify_idx_dataset
from bench.data.registry import DatasetEntry, register
from bench.data.remote import IdxDownloadSource
from bench.data.spec import IdxSpec, Source

# SHA-256 of each file's uncompressed content.
FASHION_MNIST_CHECKSUMS = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# The download location the Fashion-MNIST project publishes (an S3 website: plain HTTP only;
# every file is checked against the SHA-256 above, so the transport needs no trust).
DOWNLOAD_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _fallback_sources(spec: IdxSpec) -> list[Source]:
    debian = FolderSource(
        spec,
        DEBIAN_DIR,
        "debian",
        hint="install the Debian package: apt-get install dataset-fashion-mnist",
        explicit=False,
        fix="reinstall the Debian package: apt-get install --reinstall dataset-fashion-mnist",
    )
    return [IdxDownloadSource(spec, DOWNLOAD_URL), debian]


FASHION_MNIST = IdxSpec(
    name="fashion_mnist",
    class_names=CLASS_NAMES,
    checksums=FASHION_MNIST_CHECKSUMS,
    n_train=60_000,
    n_test=10_000,
    image_shape=(28, 28),
    fallback_sources=_fallback_sources,
)


def load_fashion_mnist(data_dir: str | Path | None = None) -> Dataset:
    """Load Fashion-MNIST: the 60,000/10,000 split as uint8 arrays, verified by SHA-256."""
    return load_idx_dataset(FASHION_MNIST, data_dir)


ENTRY = register(
    DatasetEntry(
        name="fashion_mnist",
        summary="Zalando clothing images in 10 classes, 60,000 train + 10,000 test of 28x28",
        load=load_fashion_mnist,
        verify=lambda data_dir: verify_idx_dataset(FASHION_MNIST, data_dir),
        title="Fashion-MNIST",
        accuracy_targets=(0.85, 0.88, 0.90, 0.91),
    )
)
