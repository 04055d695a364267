"""Corrupted test images for robustness evaluation, after MNIST-C (Mu and Gilmer 2019).

Fifteen corruptions, each a function ``(images, rng) -> images`` on uint8 arrays ``(N, H, W)``,
registered in the paper's order. Each uses the single severity the published MNIST-C files were
made with (the default severity of each function in the authors' public code); the parameters
are written in each description and in ``docs/robustness.md``, which also says where ours differ.

    from bench.data.corruptions import CORRUPTIONS, corrupt, corruptions_for
    rotated = corrupt("rotate", x_test, seed=0)     # same shape, uint8, same result every time

Sizes: parameters are stated for 28x28 images. On other sizes, lengths (blur widths, shifts,
swap distances) scale with ``min(H, W) / 28``, and the drawn overlays (fog, spatter, lines) are
drawn on a 28x28 canvas and resampled to the image size.

Randomness: ``corrupt`` with an integer seed gives every corruption its own stream, derived
from the seed and the corruption's name. An image's noise depends on its position in the batch
and on the batch size, so corrupt the whole test set once and take subsets from the result.
"""

from __future__ import annotations

import difflib
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from scipy import ndimage

from bench.core.errors import BenchError

# Bump when any corruption's output changes for the same input and seed: cached corrupted sets
# are keyed by it (bench.data.corrupted).
VERSION = 1
REFERENCE_SIZE = 28

CorruptionFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Corruption:
    """One registered corruption: its function, what it does, and where it does not apply.

    ``random`` is False for corruptions whose output does not depend on the seed.
    ``excluded_for`` maps a dataset name to the reason the corruption is left out for it.
    """

    name: str
    function: CorruptionFn
    description: str
    random: bool = True
    excluded_for: Mapping[str, str] = field(default_factory=dict)


_REGISTRY: dict[str, Corruption] = {}


def _register(
    description: str, *, random: bool = True, excluded_for: Mapping[str, str] | None = None
) -> Callable[[CorruptionFn], CorruptionFn]:
    """Register the decorated function under its own name."""

    def decorate(function: CorruptionFn) -> CorruptionFn:
        _REGISTRY[function.__name__] = Corruption(
            function.__name__,
            function,
            description,
            random,
            MappingProxyType(dict(excluded_for or {})),
        )
        return function

    return decorate


# --------------------------------------------------------------------------- shared helpers


def _unit(images: np.ndarray) -> np.ndarray:
    """uint8 pixels as float64 in [0, 1]."""
    return images.astype(np.float64) / 255.0


def _to_uint8(unit: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped) rounded to uint8 0..255."""
    return np.rint(np.clip(unit, 0.0, 1.0) * 255.0).astype(np.uint8)


def _size_factor(images: np.ndarray) -> float:
    """How large these images are next to 28x28 MNIST, by their shorter side."""
    return min(images.shape[1:]) / REFERENCE_SIZE


def _blur(batch: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of each image (not across images), edges extended, 4 sigma reach."""
    return ndimage.gaussian_filter(batch, sigma=(0.0, sigma, sigma), mode="nearest", truncate=4.0)


def _resample(overlays: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of ``(N, 28, 28)`` overlays to ``(N, *shape)``; unchanged at 28x28."""
    if overlays.shape[1:] == shape:
        return overlays
    factors = (1.0, shape[0] / overlays.shape[1], shape[1] / overlays.shape[2])
    return np.clip(ndimage.zoom(overlays, factors, order=1, grid_mode=True, mode="nearest"), 0, 1)


def _warp(unit: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Warp every image with the 2x2 ``inverse`` map (row, col) about the image centre.

    Output pixel ``p`` takes the input at ``centre + inverse @ (p - centre)``, bilinear, with
    zeros beyond the border that still take part in the interpolation ("grid-constant", which
    is what scikit-image's ``warp(mode="constant")`` does, used by the original).
    """
    height, width = unit.shape[1:]
    centre = np.array([(height - 1) / 2, (width - 1) / 2])
    matrix = np.eye(3)  # the batch axis maps to itself: each image is warped on its own
    matrix[1:, 1:] = inverse
    offset = np.concatenate([[0.0], centre - inverse @ centre])
    return ndimage.affine_transform(
        unit, matrix, offset=offset, order=1, mode="grid-constant", cval=0.0
    )


def _warp_with_random_sign(
    images: np.ndarray, rng: np.random.Generator, inverse_for: Callable[[float], np.ndarray]
) -> np.ndarray:
    """Warp each image with ``inverse_for(+1)`` or ``inverse_for(-1)``, the sign drawn per image."""
    unit = _unit(images)
    signs = rng.choice(np.array([-1.0, 1.0]), size=len(images))
    out = np.empty_like(unit)
    for sign in (-1.0, 1.0):
        chosen = signs == sign
        if chosen.any():
            out[chosen] = _warp(unit[chosen], inverse_for(sign))
    return _to_uint8(out)


# --------------------------------------------------------------------------- noise


@_register("Poisson (shot) noise: each pixel becomes Poisson(3 * x) / 3, x in [0, 1].")
def shot_noise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    photons = 3.0
    return _to_uint8(rng.poisson(_unit(images) * photons) / photons)


@_register("Salt-and-pepper noise: 17% of pixels set to 0 or 255, half each.")
def impulse_noise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    amount = 0.17
    draw = rng.random(images.shape)
    out = images.copy()
    out[draw < amount / 2] = 255
    out[(draw >= amount / 2) & (draw < amount)] = 0
    return out


# --------------------------------------------------------------------------- blur


@_register(
    "Glass blur: Gaussian blur (sigma 0.7), two passes of random local pixel swaps "
    "(each pixel, with probability 1/2, swaps with a neighbour up to 1 px up/left), blur again."
)
def glass_blur(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    factor = _size_factor(images)
    sigma, reach, passes = 0.7 * factor, max(1, round(1 * factor)), 2
    height, width = images.shape[1:]
    # The first blur is stored at 8 bits (truncated), as the original does before shuffling.
    shuffled = np.floor(_blur(_unit(images), sigma) * 255).astype(np.uint8)
    positions = [
        (row, col)
        for row in range(height - reach, reach, -1)
        for col in range(width - reach, reach, -1)
    ]
    images_axis = np.arange(len(images))
    for _ in range(passes):
        # Visit pixels from the bottom-right corner backwards, as the original does; swaps are
        # sequential, so a value can travel more than one step in a pass. Offsets are drawn
        # from [-reach, reach - 1] (the original's upper bound is exclusive).
        swap = rng.random((len(positions), len(images))) < 0.5
        offsets = rng.integers(-reach, reach, size=(len(positions), 2, len(images)), dtype=np.int16)
        for index, (row, col) in enumerate(positions):
            who = images_axis[swap[index]]
            other_row = row + offsets[index, 0, who]
            other_col = col + offsets[index, 1, who]
            here = shuffled[who, row, col]
            shuffled[who, row, col] = shuffled[who, other_row, other_col]
            shuffled[who, other_row, other_col] = here
    return _to_uint8(_blur(shuffled / 255.0, sigma))


@_register(
    "Motion blur: one-sided Gaussian streak (sigma 3 px, 21 taps) along an angle drawn "
    "uniformly from -45..45 degrees per image."
)
def motion_blur(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    factor = _size_factor(images)
    taps, sigma = 2 * max(1, round(10 * factor)) + 1, 3.0 * factor
    distance = np.arange(taps)
    weights = np.exp(-(distance**2) / (2 * sigma**2))
    weights /= weights.sum()
    angles = np.deg2rad(rng.uniform(-45.0, 45.0, size=len(images)))
    # Pixel (r, c) averages the pixels at (r + round(i sin a), c + round(i cos a)), i = 0..taps-1.
    step_col = np.ceil(distance[:, None] * np.cos(angles)[None, :] - 0.5).astype(np.int64)
    step_row = np.ceil(distance[:, None] * np.sin(angles)[None, :] - 0.5).astype(np.int64)
    pad = taps - 1
    padded = np.pad(images.astype(np.float32), ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    n, height, width = images.shape
    padded_height, padded_width = padded.shape[1:]
    flat = padded.reshape(-1)
    rows, cols = np.meshgrid(np.arange(height) + pad, np.arange(width) + pad, indexing="ij")
    base = (np.arange(n)[:, None, None] * padded_height * padded_width) + rows * padded_width + cols
    out = np.zeros(images.shape, dtype=np.float32)
    for tap in range(taps):
        shift = step_row[tap] * padded_width + step_col[tap]
        out += np.float32(weights[tap]) * flat[base + shift[:, None, None]]
    return np.rint(np.clip(out, 0, 255)).astype(np.uint8)


# --------------------------------------------------------------------------- geometry


@_register(
    "Shear about the centre with the inverse map [[1, -s sin 0.4], [0, cos 0.4]] in (x, y), "
    "s = +1 or -1 per image: a horizontal shear with a slight vertical stretch."
)
def shear(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    angle = 0.4

    def inverse(sign: float) -> np.ndarray:
        # In (row, col) order: row_in = cos(a) row; col_in = col - sign sin(a) row.
        return np.array([[np.cos(angle), 0.0], [-sign * np.sin(angle), 1.0]])

    return _warp_with_random_sign(images, rng, inverse)


@_register("Scale about the centre by 0.7 (the digit shrinks to 70% of its size).", random=False)
def scale(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _to_uint8(_warp(_unit(images), np.eye(2) / 0.7))


@_register(
    "Rotate about the centre by 0.4 rad (22.9 degrees), clockwise or anticlockwise per image."
)
def rotate(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    angle = 0.4

    def inverse(sign: float) -> np.ndarray:
        a = sign * angle
        return np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])

    return _warp_with_random_sign(images, rng, inverse)


@_register(
    "Brightness: add half the range (128 of 255) to every pixel, clip at 255 "
    "(the HSV value shift of +0.5 the original applies, which on grey images is this).",
    random=False,
)
def brightness(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.minimum(images.astype(np.uint16) + 128, 255).astype(np.uint8)


def _shift(batch: np.ndarray, down: int, right: int) -> np.ndarray:
    """Move every image ``down`` rows and ``right`` columns, filling with zeros."""
    out = np.zeros_like(batch)
    height, width = batch.shape[1:]
    rows_to = slice(max(down, 0), height + min(down, 0))
    rows_from = slice(max(-down, 0), height + min(-down, 0))
    cols_to = slice(max(right, 0), width + min(right, 0))
    cols_from = slice(max(-right, 0), width + min(-right, 0))
    out[:, rows_to, cols_to] = batch[:, rows_from, cols_from]
    return out


@_register("Translate by 3 px horizontally and 3 px vertically, each direction random per image.")
def translate(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pixels = max(1, round(3 * _size_factor(images)))
    signs = rng.choice(np.array([-1, 1]), size=(len(images), 2))
    out = np.empty_like(images)
    for down in (-1, 1):
        for right in (-1, 1):
            chosen = (signs[:, 0] == down) & (signs[:, 1] == right)
            out[chosen] = _shift(images[chosen], down * pixels, right * pixels)
    return out


# --------------------------------------------------------------------------- occlusion, weather

_STRIPE_NOTE = (
    "the inverted side bands hold only the tips of wide digits (7.9% of the ink of the MNIST "
    "test set) while a digit's body stays in the middle half; Fashion-MNIST garments are scaled "
    "to fill the frame, so the bands hold the sleeves and sides of the wide classes, the parts "
    "that tell T-shirt, shirt and pullover apart, and much of the object would be inverted"
)


@_register(
    "Stripe: invert (255 - x) the leftmost and rightmost quarter of the columns (7 of 28 each).",
    random=False,
    excluded_for={"fashion_mnist": _STRIPE_NOTE},
)
def stripe(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    band = max(1, images.shape[2] // 4)
    out = images.copy()
    out[:, :, :band] = 255 - out[:, :, :band]
    out[:, :, -band:] = 255 - out[:, :, -band:]
    return out


def plasma(rng: np.random.Generator, count: int, crop: int = REFERENCE_SIZE) -> np.ndarray:
    """Fractal cloud maps in [0, 1]: the top-left ``crop`` x ``crop`` of 256x256 maps.

    Diamond-square midpoint displacement on a periodic 256 grid whose corner is 0; each level's
    displacement is uniform in +-w**2, w starting at 100 and divided by 1.4 per level (as in
    MNIST-C's fog). Each map is scaled to [0, 1] by its own minimum and maximum over the whole
    256x256 grid before the crop is taken. Computed 16 maps at a time (4 MiB, which stays in
    the CPU cache: 1.7x faster here than 64 at a time).
    """
    size, decay, chunk = 256, 1.4, 16
    out = np.empty((count, crop, crop), dtype=np.float32)
    for start in range(0, count, chunk):
        grid = np.zeros((min(chunk, count - start), size, size), dtype=np.float32)
        step, wobble = size, 100.0
        while step >= 2:
            half = step // 2
            corners = grid[:, ::step, ::step]

            def displaced(total: np.ndarray, wobble: float = wobble) -> np.ndarray:
                # Uniform in [-1, 1] at 16-bit resolution: 8x faster to draw than floats.
                levels = rng.integers(0, 65536, size=total.shape, dtype=np.uint16)
                noise = levels.astype(np.float32) * np.float32(2 / 65535) - np.float32(1)
                return total / 4 + noise * np.float32(wobble**2)

            # Square step: each cell's centre is the mean of its four corners, displaced.
            around = corners + np.roll(corners, -1, axis=1)
            around = around + np.roll(around, -1, axis=2)
            grid[:, half::step, half::step] = displaced(around)
            centres = grid[:, half::step, half::step]
            # Diamond step: each edge midpoint is the mean of its two corners and the two
            # centres beside it (wrapping around the grid), displaced.
            grid[:, ::step, half::step] = displaced(
                centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=2)
            )
            grid[:, half::step, ::step] = displaced(
                centres + np.roll(centres, 1, axis=2) + corners + np.roll(corners, -1, axis=1)
            )
            step, wobble = half, wobble / decay
        low = grid.min(axis=(1, 2), keepdims=True)
        high = grid.max(axis=(1, 2), keepdims=True)
        out[start : start + len(grid)] = (grid[:, :crop, :crop] - low) / (high - low)
    return out


@_register(
    "Fog: add 3 x a fractal cloud map (diamond-square, roughness 1.4), then rescale by "
    "peak / (peak + 3) so the digit keeps a quarter of its contrast under the fog."
)
def fog(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    strength = 3.0
    unit = _unit(images)
    clouds = _resample(plasma(rng, len(images)).astype(np.float64), images.shape[1:])
    peak = unit.max(axis=(1, 2), keepdims=True)
    return _to_uint8((unit + strength * clouds) * peak / (peak + strength))


@_register(
    "Spatter (mud): blobs where smoothed Gaussian noise N(0.65, 0.3) (sigma 1) exceeds 0.65 "
    "and the blurred mask (sigma 1.5) reaches 0.8, painted dark grey (63)."
)
def spatter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    canvas = (len(images), REFERENCE_SIZE, REFERENCE_SIZE)
    liquid = _blur(rng.normal(0.65, 0.3, size=canvas), 1.0)
    mud = _blur((liquid > 0.65).astype(np.float64), 1.5)
    mud[mud < 0.8] = 0.0
    mud = _resample(mud, images.shape[1:])
    return _to_uint8(_unit(images) * (1 - mud) + (63 / 255) * mud)


# --------------------------------------------------------------------------- strokes and edges

_LINE_REACH = 2.3  # rows from a line's centre where its brightness falls to 0


def _line_strength(
    col0: np.ndarray, row0: np.ndarray, col1: np.ndarray, row1: np.ndarray
) -> np.ndarray:
    """Brightness ``(N, 28, 28)`` of one thick segment per image, from ``(col0, row0)`` to
    ``(col1, row1)`` (arrays of N).

    Brightness is ``1 + log(1 - d / 2.3)`` clipped to [0, 1], where ``d`` is the vertical
    distance to the segment's line: full at the line, 0 beyond about 1.45 rows; only columns
    from floor(col0) up to (not including) ceil(col1) are drawn. A vertical segment draws nothing.
    """
    grid = np.arange(REFERENCE_SIZE, dtype=np.float64)
    rows, cols = grid[None, :, None], grid[None, None, :]
    col0, row0, col1, row1 = (
        np.asarray(v, dtype=np.float64)[:, None, None] for v in (col0, row0, col1, row1)
    )
    run = col1 - col0
    slope = np.divide(row1 - row0, run, out=np.zeros_like(run), where=run != 0)
    distance = np.minimum(np.abs(rows - (row0 + slope * (cols - col0))), _LINE_REACH - 1e-10)
    strength = np.clip(1 + np.log1p(-distance / _LINE_REACH), 0, 1)
    inside = (cols >= np.floor(col0)) & (cols < np.ceil(col1)) & (run != 0)
    return np.where(inside, strength, 0.0)


@_register(
    "Dotted line: a thick line from the left to the right edge between two random rows "
    "(0..26), drawn in dashes of 2 columns on, 2 off, added to the image."
)
def dotted_line(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(images)
    rows = rng.integers(0, REFERENCE_SIZE - 1, size=(2, n))
    line = _line_strength(np.zeros(n), rows[0], np.full(n, REFERENCE_SIZE - 1.0), rows[1])
    dashes = (np.arange(REFERENCE_SIZE) // 2) % 2 == 1  # columns 0-1 off, 2-3 on, ...
    overlay = _resample(line * dashes, images.shape[1:])
    return _to_uint8(_unit(images) + overlay)


def _triangle_wave(u: np.ndarray, half_period: float, height: float) -> np.ndarray:
    """A triangle wave: 0 at u = 0, +height at half_period / 2, -height at 1.5 half_period."""
    return height * (2 / np.pi) * np.arcsin(np.sin(np.pi * u / half_period))


@_register(
    "Zigzag: a thick zigzag (teeth 2 px high, 4 px apart, at 45 degrees) from column 2 to 25, "
    "starting at a random row 0..26 and drifting -5..+4 rows, added to the image."
)
def zigzag(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(images)
    tooth, height = 2.0, 2.0
    col_start, col_end = 2.0, 25.0
    row_start = rng.integers(0, REFERENCE_SIZE - 1, size=n).astype(np.float64)
    drift = rng.integers(-5, 5, size=n).astype(np.float64)
    theta = np.arctan(drift / (col_end - col_start))
    length = (col_end - col_start) / np.cos(theta)  # 23 to 23.5: the same corners for every image
    corners = np.arange(tooth, length.min(), 2 * tooth)
    along = np.concatenate(
        [np.zeros((n, 1)), np.broadcast_to(corners, (n, len(corners))), length[:, None]], axis=1
    )
    across = _triangle_wave(along, 2 * tooth, height)
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    cols = col_start + along * cos - across * sin
    rows = row_start[:, None] + along * sin + across * cos
    overlay = np.zeros((n, REFERENCE_SIZE, REFERENCE_SIZE))
    for k in range(along.shape[1] - 1):
        overlay += _line_strength(cols[:, k], rows[:, k], cols[:, k + 1], rows[:, k + 1])
    overlay = _resample(np.clip(overlay, 0, 1), images.shape[1:])
    return _to_uint8(_unit(images) + overlay)


_CANNY_NOTE = (
    "a digit is a thin stroke whose edge map is its own outline, so the shape survives; "
    "garments are filled shapes told apart by fill and texture (shirt, pullover, coat share a "
    "silhouette), which an edge map discards, so it would test a different task"
)


@_register(
    "Canny edges: the binary Canny edge map (sigma 1, hysteresis thresholds 0.1 and 0.2), "
    "edges 255 on 0.",
    random=False,
    excluded_for={"fashion_mnist": _CANNY_NOTE},
)
def canny_edges(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from skimage.feature import canny  # imported here: scikit-image is slow to import

    unit = _unit(images)
    edges = np.stack(
        [canny(image, sigma=1.0, low_threshold=0.1, high_threshold=0.2) for image in unit]
    )
    return edges.astype(np.uint8) * np.uint8(255)


# --------------------------------------------------------------------------- public API

CORRUPTIONS: tuple[str, ...] = tuple(_REGISTRY)


def get_corruption(name: str) -> Corruption:
    """The registered corruption called ``name``; an unknown name lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), CORRUPTIONS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise BenchError(
            f"unknown corruption '{name}'.{hint} Known corruptions: {', '.join(CORRUPTIONS)}"
        ) from None


def corruptions_for(dataset_name: str) -> list[str]:
    """The corruptions that apply to ``dataset_name``, in registry order.

    Every corruption applies unless it lists the dataset in ``excluded_for`` (with the reason);
    Fashion-MNIST leaves out ``stripe`` and ``canny_edges``.
    """
    return [name for name in CORRUPTIONS if dataset_name not in _REGISTRY[name].excluded_for]


def _generator(name: str, seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BenchError(
            f"seed must be a non-negative integer or a numpy.random.Generator, got {seed!r}"
        )
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


def _check_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise BenchError(
            f"corruptions take uint8 images shaped (N, H, W); got {images.dtype} {images.shape}. "
            "Pass the dataset's raw images (e.g. dataset.x_test), before any scaling or reshaping."
        )
    if images.shape[0] and min(images.shape[1:]) < 4:
        raise BenchError(f"images must be at least 4x4 pixels to corrupt; got {images.shape[1:]}")
    return images


def corrupt(name: str, images: np.ndarray, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Return ``images`` (uint8, ``(N, H, W)``) under corruption ``name``; the input is untouched.

    The same images and integer seed always give the same result; with a Generator, its state
    advances. Example::

        >>> out = corrupt("brightness", np.zeros((2, 28, 28), np.uint8))
        >>> int(out.min()), out.shape
        (128, (2, 28, 28))
    """
    entry = get_corruption(name)
    images = _check_images(images)
    rng = _generator(name, seed)
    if len(images) == 0:
        return images.copy()
    out = entry.function(np.ascontiguousarray(images), rng)
    assert out.shape == images.shape and out.dtype == np.uint8, name
    return out
