"""``bench predict``: classify your own images with a model a run kept (``--save-model``)."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from bench.results.store.files import DEFAULT_RESULTS_DIR

EPILOG = """examples:
  python -m bench predict mnist--mlp.default--seed0--0123456789 digits.npy
  python -m bench predict RUN_ID seven.png two.png --top 3
  python -m bench predict RUN_ID t10k-images-idx3-ubyte.gz --output predictions.csv

Images: .npy arrays (H, W) or (N, H, W) of whole numbers 0-255, IDX files (raw or .gz) as
MNIST ships them, or pictures (.png, .jpg, ...; converted to grey). They must have the size
the model was trained on; MNIST's digits are white on black. The model's files are checked
against the SHA-256 in its record before they are loaded (docs/saved-models.md).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench predict``."""
    parser = subparsers.add_parser(
        "predict",
        help="classify images with a model a run kept (--save-model)",
        description="Load the model run RUN_ID kept (hashes checked) and print the most "
        "probable class of each image.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_id", metavar="RUN_ID", help="the run whose model to use")
    parser.add_argument("images", nargs="+", metavar="IMAGES", help=".npy, .idx[.gz] or pictures")
    parser.add_argument(
        "--top", type=int, default=1, metavar="K", help="show the K most probable classes"
    )
    parser.add_argument(
        "--output", type=Path, metavar="FILE.csv", help="also write every probability as CSV"
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS_DIR,
        help=f"where the run's record lies (default: {DEFAULT_RESULTS_DIR})",
    )
    parser.set_defaults(handler=handle_predict)


def handle_predict(args: argparse.Namespace) -> int:
    """Load the model, read the images, print one line per image (and the CSV)."""
    from bench.core.errors import BenchError
    from bench.core.fsutil import atomic_write_text
    from bench.data.user_images import read_images
    from bench.run.saved_model import load_model

    if args.top < 1:
        raise BenchError(f"--top must be 1 or more, got {args.top}")
    model = load_model(args.run_id, args.results_dir)
    images, names = read_images(args.images, model.image_shape)
    proba = model.predict_proba(images)
    classes = model.class_names
    top = min(args.top, len(classes))
    for name, row in zip(names, proba, strict=True):
        best = row.argsort()[::-1][:top]
        shown = "  ".join(f"{classes[k]} {row[k]:.4f}" for k in best)
        print(f"{name}\t{shown}")
    if args.output is not None:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(["image", "predicted", *classes])
        for name, row in zip(names, proba, strict=True):
            writer.writerow([name, classes[int(row.argmax())], *(f"{p:.6g}" for p in row)])
        try:
            atomic_write_text(args.output, text.getvalue())
        except OSError as error:
            raise BenchError(f"cannot write {args.output}: {error.strerror or error}") from None
        print(f"probabilities written to {args.output}")
    return 0
