"""The published MNIST-C files, where someone has them: one folder per corruption.

The layout of the unpacked archive (Mu and Gilmer 2019)::

    <root>/<corruption>/test_images.npy     (N, 28, 28, 1) uint8
    <root>/<corruption>/test_labels.npy     (N,) integer labels 0..9
    (train_images.npy and train_labels.npy beside them are not read)

Folder names are the corruption names of ``bench.data.corruptions`` plus ``identity`` (the
clean images). These files cannot be downloaded on our machines; the loader is for a copy you
bring, so that models can also be scored on the published images.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.core.errors import BenchError
from bench.data.corrupted import CorruptedSet
from bench.data.corruptions import CORRUPTIONS

IMAGES_FILE = "test_images.npy"
LABELS_FILE = "test_labels.npy"
IMAGE_SIDE = 28
NUM_CLASSES = 10


def mnist_c_names(root: str | Path) -> list[str]:
    """The corruptions present under ``root`` (folders holding test images): ours in registry
    order, then any others (such as ``identity``) by name."""
    root = _existing_root(root)
    present = {p.name for p in root.iterdir() if (p / IMAGES_FILE).is_file()}
    return [n for n in CORRUPTIONS if n in present] + sorted(present - set(CORRUPTIONS))


def load_mnist_c_folder(
    root: str | Path, names: Sequence[str] | None = None
) -> dict[str, CorruptedSet]:
    """Load MNIST-C test sets from ``root`` by corruption name (all present when ``names`` is
    None). Images come back as ``(N, 28, 28)`` uint8, labels as ``(N,)`` uint8.

    Raises BenchError naming the folder or file when the folder or a corruption is missing, an
    array has the wrong shape or dtype, or images and labels differ in count.
    """
    root = _existing_root(root)
    present = mnist_c_names(root)
    if names is None:
        if not present:
            raise BenchError(
                f"MNIST-C folder {root} holds no corruption folders (none has {IMAGES_FILE}). "
                f"Fix: point at the unpacked archive's top folder, the one that holds "
                f"shot_noise/, fog/, ..."
            )
        names = present
    missing = [name for name in names if name not in present]
    if missing:
        raise BenchError(
            f"MNIST-C folder {root} lacks {', '.join(missing)} (no <name>/{IMAGES_FILE}). "
            f"Present: {', '.join(present) or 'nothing'}."
        )
    return {name: _load_one(root, name) for name in names}


def _existing_root(root: str | Path) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise BenchError(
            f"MNIST-C folder {root} does not exist or is not a folder. Fix: unpack the "
            f"published archive and pass its top folder (with shot_noise/{IMAGES_FILE} etc.)."
        )
    return root


def _load_one(root: Path, name: str) -> CorruptedSet:
    images_path = root / name / IMAGES_FILE
    labels_path = root / name / LABELS_FILE
    images = _load_array(images_path)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise BenchError(
            f"{images_path} holds shape {images.shape}; expected (N, 28, 28, 1) as published "
            "(or (N, 28, 28)). Fix: replace it with the file from the MNIST-C archive."
        )
    if images.dtype != np.uint8:
        raise BenchError(
            f"{images_path} holds {images.dtype} values; expected uint8 as published. "
            "Fix: replace it with the file from the MNIST-C archive."
        )
    labels = _load_array(labels_path)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise BenchError(
            f"{labels_path} holds {labels.dtype} {labels.shape}; expected integer labels (N,)."
        )
    if len(labels) != len(images):
        raise BenchError(
            f"{root / name} has {len(images)} images but {len(labels)} labels; the two files "
            "must come from the same archive."
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise BenchError(
            f"{labels_path} holds labels {labels.min()}..{labels.max()}; expected 0..9."
        )
    return CorruptedSet(
        "mnist",
        name,
        np.ascontiguousarray(images),
        labels.astype(np.uint8),
        None,
        f"mnist-c:{root / name}",
    )


def _load_array(path: Path) -> np.ndarray:
    if not path.is_file():
        raise BenchError(f"{path} is missing. Fix: copy it from the MNIST-C archive.")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise BenchError(f"{path} is not a readable .npy file ({error}).") from None
