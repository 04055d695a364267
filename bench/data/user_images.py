"""Images a user hands to ``bench predict``: NumPy, IDX or picture files, as uint8 (N, H, W).

- ``.npy``: an array of shape (H, W) or (N, H, W) of whole numbers 0-255 (read without
  pickles);
- ``.idx`` / ``.idx3-ubyte`` / any of them ``.gz``: an IDX image file, as MNIST ships;
- ``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, ``.gif``, ``.tif``, ``.tiff``, ``.webp``: one picture
  each, converted to 8-bit grey (Pillow). MNIST's digits are white on black: a scan of ink on
  paper needs inverting first.

Every image must have the shape the model was trained on; a file that does not is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.core.errors import BenchError
from bench.data.idx import parse_idx, read_idx_gz

PICTURES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_PIXELS = 64_000_000  # a picture larger than this is refused before it is decoded


def read_images(
    paths: Sequence[str | Path], image_shape: tuple[int, int]
) -> tuple[np.ndarray, list[str]]:
    """All images of ``paths``, in order, as one uint8 array (N, H, W) of ``image_shape``, and
    a name for each (``file[index]``)."""
    if not paths:
        raise BenchError("name at least one image file (.npy, .idx[.gz] or a picture)")
    arrays = [read_image_file(Path(path)) for path in paths]
    for path, array in zip(paths, arrays, strict=True):
        if tuple(array.shape[1:]) != tuple(image_shape):
            raise BenchError(
                f"{path}: images of {array.shape[1]}x{array.shape[2]} pixels, but the model "
                f"takes {image_shape[0]}x{image_shape[1]}; resize them first"
            )
    names = [
        f"{path}[{i}]" for path, array in zip(paths, arrays, strict=True) for i in range(len(array))
    ]
    return np.concatenate(arrays, axis=0), names


def read_image_file(path: Path) -> np.ndarray:
    """One file's images as uint8 (N, H, W); a clear error for what cannot be read."""
    if not path.is_file():
        raise BenchError(f"no image file {path}")
    name = path.name.lower()
    try:
        if name.endswith(".npy"):
            return _from_npy(path)
        if name.endswith(".gz"):
            with path.open("rb") as stream:
                return read_idx_gz(stream, str(path), ndim=3)
        if "idx" in name or name.endswith("-ubyte"):
            return parse_idx(path.read_bytes(), str(path), ndim=3)
        if name.endswith(PICTURES):
            return _from_picture(path)
    except OSError as error:
        raise BenchError(f"cannot read {path}: {error.strerror or error}") from None
    raise BenchError(
        f"{path}: unknown image format; give .npy, .idx (or .gz) or a picture "
        f"({', '.join(PICTURES)})"
    )


def _from_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        raise BenchError(f"{path}: not a plain NumPy array file ({error})") from None
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim != 3 or array.size == 0:
        raise BenchError(f"{path}: expected an array (H, W) or (N, H, W), got {array.shape}")
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise BenchError(f"{path}: expected numbers 0-255, got dtype {array.dtype}")
    whole = np.all(np.isfinite(array)) and np.all(np.equal(np.round(array), array))
    if not whole or array.min() < 0 or array.max() > 255:
        raise BenchError(
            f"{path}: pixel values must be whole numbers 0-255 (as uint8); got {array.dtype} "
            f"in [{float(np.nanmin(array)):g}, {float(np.nanmax(array)):g}]: scale them first"
        )
    return array.astype(np.uint8)


def _from_picture(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as picture:
            if picture.width * picture.height > MAX_PIXELS:
                raise BenchError(f"{path}: {picture.width}x{picture.height} pixels is too large")
            return np.asarray(picture.convert("L"), dtype=np.uint8)[np.newaxis]
    except UnidentifiedImageError:
        raise BenchError(f"{path}: not a picture Pillow can read") from None
