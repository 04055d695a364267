"""The corruption suite on real MNIST test images: contract (shape, dtype, determinism) and, per
corruption, that the transform is the one documented."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from bench.core.errors import BenchError
from bench.data.corruptions import (
    CORRUPTIONS,
    corrupt,
    corruptions_for,
    get_corruption,
)
from bench.data.idx import parse_idx

MNIST_TEST_IMAGES = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"
)
PAPER_ORDER = [
    "shot_noise",
    "impulse_noise",
    "glass_blur",
    "motion_blur",
    "shear",
    "scale",
    "rotate",
    "brightness",
    "translate",
    "stripe",
    "fog",
    "spatter",
    "dotted_line",
    "zigzag",
    "canny_edges",
]


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """The first 200 real MNIST test images, uint8 (200, 28, 28)."""
    if not MNIST_TEST_IMAGES.is_file():
        pytest.skip(f"real MNIST test images not found at {MNIST_TEST_IMAGES}")
    images = parse_idx(gzip.decompress(MNIST_TEST_IMAGES.read_bytes()), "t10k-images", 3)
    return images[:200]


def centroids(images: np.ndarray) -> np.ndarray:
    """Ink-weighted (row, col) centre of mass of each image, shape (N, 2)."""
    weights = images.astype(np.float64)
    rows, cols = np.indices(images.shape[1:])
    mass = weights.sum(axis=(1, 2))
    return np.stack(
        [(weights * rows).sum(axis=(1, 2)) / mass, (weights * cols).sum(axis=(1, 2)) / mass],
        axis=1,
    )


def mass(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float64).sum(axis=(1, 2))


# --------------------------------------------------------------------------- registry, contract


def test_registry_lists_the_fifteen_mnist_c_corruptions_in_the_papers_order():
    assert list(CORRUPTIONS) == PAPER_ORDER
    for name in CORRUPTIONS:
        entry = get_corruption(name)
        assert entry.name == name and len(entry.description) > 30


def test_fashion_mnist_leaves_out_stripe_and_canny_edges_with_reasons():
    assert corruptions_for("mnist") == PAPER_ORDER
    assert corruptions_for("digits") == PAPER_ORDER
    fashion = corruptions_for("fashion_mnist")
    assert fashion == [n for n in PAPER_ORDER if n not in ("stripe", "canny_edges")]
    assert "sleeves" in get_corruption("stripe").excluded_for["fashion_mnist"]
    assert "texture" in get_corruption("canny_edges").excluded_for["fashion_mnist"]


@pytest.mark.parametrize("name", PAPER_ORDER)
def test_contract_shape_dtype_determinism_and_seed(digits, name):
    before = digits.copy()
    out = corrupt(name, digits, seed=0)
    assert out.shape == digits.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(digits, before, err_msg="input must not be modified")
    assert not np.array_equal(out, digits), "a corruption changes the images"
    np.testing.assert_array_equal(out, corrupt(name, digits, seed=0))
    other = corrupt(name, digits, seed=1)
    if get_corruption(name).random:
        assert not np.array_equal(out, other), "another seed draws other noise"
    else:
        np.testing.assert_array_equal(out, other)
    generator = corrupt(name, digits, seed=np.random.default_rng(5))
    assert generator.shape == digits.shape


@pytest.mark.parametrize("name", PAPER_ORDER)
def test_works_on_8x8_digits_and_other_sizes(name):
    rng = np.random.default_rng(0)
    for shape in ((30, 8, 8), (4, 20, 36)):
        images = np.zeros(shape, np.uint8)
        h, w = shape[1:]
        images[:, h // 4 : 3 * h // 4, w // 3 : 2 * w // 3] = rng.integers(100, 256, (1,))[0]
        out = corrupt(name, images, seed=3)
        assert out.shape == shape and out.dtype == np.uint8
        assert not np.array_equal(out, images)


def test_empty_batch_and_bad_input_give_clear_errors(digits):
    assert corrupt("fog", digits[:0]).shape == (0, 28, 28)
    with pytest.raises(BenchError, match="Did you mean 'rotate'"):
        corrupt("rotat", digits)
    with pytest.raises(BenchError, match=r"uint8 images shaped \(N, H, W\)"):
        corrupt("fog", digits.astype(np.float32) / 255)
    with pytest.raises(BenchError, match=r"uint8 images shaped \(N, H, W\)"):
        corrupt("fog", digits[0])
    with pytest.raises(BenchError, match="non-negative integer"):
        corrupt("fog", digits, seed=-1)


def test_results_differ_between_corruptions_with_the_same_seed(digits):
    # Each corruption draws from its own stream: translate's and shear's signs are not the same
    # draws, so their per-image directions are not perfectly correlated.
    a = corrupt("translate", digits, 0)
    b = corrupt("dotted_line", digits, 0)
    assert not np.array_equal(a, b)


# --------------------------------------------------------------------------- noise


def test_shot_noise_is_poisson_with_three_photons(digits):
    out = corrupt("shot_noise", digits, 0)
    assert set(np.unique(out)) <= {0, 85, 170, 255}, "Poisson(3x)/3 takes values k/3"
    assert np.all(out[digits == 0] == 0), "no photons where there is no ink"
    # On full-ink pixels (x = 1) the count is Poisson(3): P(0) = e^-3, P(>= 3) = 0.577.
    full = out[digits == 255]
    assert abs(np.mean(full == 0) - np.exp(-3)) < 0.02
    assert abs(np.mean(full == 255) - 0.5768) < 0.03


def test_impulse_noise_hits_seventeen_percent_of_pixels_half_salt_half_pepper(digits):
    out = corrupt("impulse_noise", digits, 0)
    grey = (digits > 0) & (digits < 255)
    hit = (out == 0) | (out == 255)
    assert abs(hit[grey].mean() - 0.17) < 0.01
    assert abs((out[digits == 0] == 255).mean() - 0.085) < 0.005
    assert np.all((out == digits) | hit), "untouched pixels keep their value"


# --------------------------------------------------------------------------- blur


def test_glass_blur_smears_but_keeps_the_ink(digits):
    out = corrupt("glass_blur", digits, 0)
    assert np.allclose(mass(out), mass(digits), rtol=0.08)
    assert out.max(axis=(1, 2)).mean() < 0.8 * digits.max(axis=(1, 2)).mean()
    assert np.abs(centroids(out) - centroids(digits)).max() < 1.5


def test_motion_blur_streaks_a_dot_one_way_within_45_degrees_of_horizontal():
    dots = np.zeros((50, 28, 28), np.uint8)
    dots[:, 14, 14] = 255
    out = corrupt("motion_blur", dots, 0)
    for image in out:
        rows, cols = np.nonzero(image)
        assert cols.max() == 14, "one-sided: each pixel averages the pixels to its right"
        assert np.ptp(cols) >= np.ptp(rows) and np.ptp(cols) >= 5
        assert image[14, 14] == np.rint(255 / np.exp(-(np.arange(21) ** 2) / 18).sum())
    slopes = [np.polyfit(np.nonzero(i)[1], np.nonzero(i)[0], 1, w=i[i > 0])[0] for i in out]
    assert min(slopes) < -0.3 and max(slopes) > 0.3, "angles drawn on both sides"


def test_motion_blur_keeps_the_ink_of_digits(digits):
    ratio = mass(corrupt("motion_blur", digits, 0)) / mass(digits)
    assert np.median(ratio) == pytest.approx(1.0, abs=0.005)
    assert ratio.min() > 0.93, "only ink streaked past the border is lost"


# --------------------------------------------------------------------------- geometry


def bar(vertical: bool) -> np.ndarray:
    """40 copies of a 2 px wide bar through the centre, rows/cols 6..21."""
    images = np.zeros((40, 28, 28), np.uint8)
    if vertical:
        images[:, 6:22, 13:15] = 255
    else:
        images[:, 13:15, 6:22] = 255
    return images


def fitted_slope(images: np.ndarray, columns_per_row: bool) -> np.ndarray:
    """Per image, the slope of the bar: d col / d row (or d row / d col)."""
    slopes = []
    for image in images:
        rows, cols = np.nonzero(image > 60)
        x, y = (rows, cols) if columns_per_row else (cols, rows)
        slopes.append(np.polyfit(x, y, 1)[0])
    return np.array(slopes)


def test_shear_slants_a_vertical_bar_by_sin_04_either_way(digits):
    slopes = fitted_slope(corrupt("shear", bar(vertical=True), 0), columns_per_row=True)
    assert np.allclose(np.abs(slopes), np.sin(0.4), atol=0.03)
    assert (slopes > 0).any() and (slopes < 0).any()
    out = corrupt("shear", digits, 0)
    # The inverse map's determinant is cos 0.4: ink grows by 1 / cos 0.4 = 1.086.
    assert np.median(mass(out) / mass(digits)) == pytest.approx(1 / np.cos(0.4), rel=0.03)


def test_rotate_turns_a_bar_by_04_rad_about_the_centre(digits):
    slopes = fitted_slope(corrupt("rotate", bar(vertical=False), 0), columns_per_row=False)
    assert np.allclose(np.abs(np.arctan(slopes)), 0.4, atol=0.03)
    assert (slopes > 0).any() and (slopes < 0).any()
    out = corrupt("rotate", digits, 0)
    centre = np.array([13.5, 13.5])
    before = np.linalg.norm(centroids(digits) - centre, axis=1)
    after = np.linalg.norm(centroids(out) - centre, axis=1)
    assert np.abs(after - before).max() < 0.6, "a rotation about the centre keeps that distance"
    assert np.median(mass(out) / mass(digits)) == pytest.approx(1.0, abs=0.02)


def skimage_warp(images: np.ndarray, linear_xy: np.ndarray) -> np.ndarray:
    """The original's recipe: scikit-image ``warp`` with an inverse affine map in (x, y) that
    keeps the centre (13.5, 13.5) fixed, bilinear, constant 0 outside, rounded to uint8."""
    from skimage.transform import AffineTransform, warp

    matrix = np.eye(3)
    matrix[:2, :2] = linear_xy
    matrix[:2, 2] = 13.5 - linear_xy @ [13.5, 13.5]
    inverse = AffineTransform(matrix=matrix)
    return np.stack(
        [np.rint(warp(i / 255, inverse, order=1, mode="constant") * 255) for i in images]
    )


@pytest.mark.parametrize(
    "name, linear_xy",
    [
        (
            "rotate",
            lambda s: [[np.cos(0.4 * s), -np.sin(0.4 * s)], [np.sin(0.4 * s), np.cos(0.4 * s)]],
        ),
        ("shear", lambda s: [[1, -np.sin(0.4 * s)], [0, np.cos(0.4 * s)]]),
        ("scale", lambda s: [[1 / 0.7, 0], [0, 1 / 0.7]]),
    ],
)
def test_affine_corruptions_match_scikit_image_warp_with_the_published_maps(
    digits, name, linear_xy
):
    out = corrupt(name, digits[:40], 0).astype(float)
    plus, minus = (skimage_warp(digits[:40], np.array(linear_xy(s), float)) for s in (1, -1))
    match_plus = np.abs(out - plus).max(axis=(1, 2)) <= 1
    match_minus = np.abs(out - minus).max(axis=(1, 2)) <= 1
    assert np.all(match_plus | match_minus)
    if name != "scale":
        assert match_plus.any() and match_minus.any(), "both directions occur"


def test_scale_shrinks_to_70_percent_about_the_centre(digits):
    out = corrupt("scale", digits, 0)
    assert np.median(mass(out) / mass(digits)) == pytest.approx(0.7**2, rel=0.04)
    heights = [np.ptp(np.nonzero(i.any(axis=1))[0]) + 1 for i in (digits[0], out[0])]
    assert heights[1] == pytest.approx(0.7 * heights[0], abs=1.5)
    # An off-centre block (rows and cols 3..10, centre 6.5) moves towards the centre 13.5.
    block = np.zeros((1, 28, 28), np.uint8)
    block[:, 3:11, 3:11] = 255
    moved = centroids(corrupt("scale", block, 0))[0]
    np.testing.assert_allclose(moved, 13.5 + 0.7 * (6.5 - 13.5), atol=0.05)


def test_translate_moves_each_digit_three_pixels_both_ways(digits):
    inside = [i for i, image in enumerate(digits) if not image[:3].any() and not image[-3:].any()]
    inside = [i for i in inside if not digits[i][:, :3].any() and not digits[i][:, -3:].any()]
    assert len(inside) > 100
    out = corrupt("translate", digits[inside], 0)
    moved = centroids(out) - centroids(digits[inside])
    np.testing.assert_allclose(np.abs(moved), 3.0, atol=1e-9)
    np.testing.assert_array_equal(mass(out), mass(digits[inside]))
    directions = {tuple(np.sign(m).astype(int)) for m in moved}
    assert directions == {(-1, -1), (-1, 1), (1, -1), (1, 1)}


def test_brightness_adds_half_the_range(digits):
    out = corrupt("brightness", digits, 0)
    expected = np.minimum(digits.astype(int) + 128, 255)
    np.testing.assert_array_equal(out, expected)
    assert out.mean() > digits.mean() + 100


# --------------------------------------------------------------------------- occlusion, weather


def test_stripe_inverts_the_outer_quarters_only(digits):
    out = corrupt("stripe", digits, 0)
    np.testing.assert_array_equal(out[:, :, :7], 255 - digits[:, :, :7])
    np.testing.assert_array_equal(out[:, :, 21:], 255 - digits[:, :, 21:])
    np.testing.assert_array_equal(out[:, :, 7:21], digits[:, :, 7:21])


def test_fog_lifts_the_background_and_leaves_the_digit_a_quarter_of_its_contrast(digits):
    out = corrupt("fog", digits, 0).astype(float)
    background = digits == 0
    assert out[background].mean() > 40, "the background is fogged"
    per_image_fog = np.array([o[b].std() for o, b in zip(out, background, strict=True)])
    assert (per_image_fog > 2).mean() > 0.8, "the fog varies across each image"
    # The clouds depend only on the seed and the batch size, so a batch of near-blank images
    # (one full-ink pixel each, so the peak is 1 too) gets the same clouds: out = (x + 3 p) / 4
    # for both, and the difference is the digit at a quarter of its contrast.
    marks = np.zeros_like(digits)
    marks[:, 0, 0] = 255
    fog_only = corrupt("fog", marks, 0).astype(float)
    difference = (out - fog_only)[:, 1:, 1:]
    np.testing.assert_allclose(difference, digits[:, 1:, 1:] / 4, atol=1.5)  # two roundings


def test_spatter_paints_dark_grey_blobs(digits):
    out = corrupt("spatter", digits, 0)
    background = out[digits == 0]
    mudded = background > 0
    assert np.all((background[mudded] >= 50) & (background[mudded] <= 63)), "mud is 63 * m"
    assert 0.005 < mudded.mean() < 0.3
    ink = digits == 255
    assert (out[ink] < 255).any() and np.all(out[ink] >= 50), "mud covers ink too"


def test_dotted_line_adds_dashes_in_every_other_pair_of_columns(digits):
    out = corrupt("dotted_line", digits, 0)
    assert np.all(out >= digits), "the line is added"
    off_columns = (np.arange(28) // 2) % 2 == 0
    np.testing.assert_array_equal(out[:, :, off_columns], digits[:, :, off_columns])
    added = (out > digits).sum(axis=(1, 2))
    assert np.all(added > 0)


def test_zigzag_spans_columns_2_to_25_and_is_added(digits):
    out = corrupt("zigzag", digits, 0)
    assert np.all(out >= digits), "the zigzag is added"
    assert np.all((out > digits).any(axis=(1, 2)))
    lines = corrupt("zigzag", np.zeros((200, 28, 28), np.uint8) + 1, 0) > 1
    columns = np.nonzero(lines.any(axis=(0, 1)))[0]
    assert columns.min() in (1, 2) and columns.max() in (25, 26)
    rows_per_column = lines.sum(axis=1)
    assert rows_per_column.max() <= 6, "a thin line: about 3 rows per column, more at a tooth"
    spans = np.ptp(np.nonzero(lines[0].any(axis=1))[0])
    assert 4 <= spans <= 2 * 2 + 5 + 4, "teeth 2 px each side, plus drift, plus line width"


def test_canny_edges_are_binary_outlines_next_to_the_strokes(digits):
    out = corrupt("canny_edges", digits, 0)
    assert set(np.unique(out)) == {0, 255}
    share = (out == 255).mean(axis=(1, 2))
    assert np.all((share > 0.02) & (share < 0.3))
    near_ink = ndimage.binary_dilation(digits > 0, iterations=2, structure=np.ones((1, 3, 3)))
    assert np.all(near_ink[out == 255]), "edges lie within 2 px of the strokes"
