"""``bench export-model``: export a kept model to ONNX, checked against the native model."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.results.store.files import DEFAULT_RESULTS_DIR

EPILOG = """examples:
  python -m bench export-model mnist--mlp.default--seed0--0123456789
  python -m bench export-model RUN_ID --format onnx --results-dir results-laptop

The run must have kept its model (bench run --save-model, which also exports to ONNX). The
export is checked on the run's test images against the native model (argmax agreement of at
least 99.9%, the largest probability difference stated) and timed under ONNX Runtime beside
the native model, both measured here; the record and runs/RUN_ID/model.onnx are replaced. A
model that does not convert says why (docs/saved-models.md).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench export-model``."""
    parser = subparsers.add_parser(
        "export-model",
        help="export a kept model to ONNX, checked and timed beside the native model",
        description="Export the model run RUN_ID kept (--save-model) to ONNX, check it "
        "against the native model on the test set, and time it under ONNX Runtime.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_id", metavar="RUN_ID", help="the run whose model to export")
    parser.add_argument("--format", default="onnx", choices=("onnx",), help="(default: onnx)")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS_DIR,
        help=f"where the run's record lies (default: {DEFAULT_RESULTS_DIR})",
    )
    parser.set_defaults(handler=handle_export_model)


def handle_export_model(args: argparse.Namespace) -> int:
    """Export, check, time; print what happened. Exit 1 when the model did not convert or the
    export disagrees with the native model."""
    from bench.models.keep import describe_onnx
    from bench.run.export_model import export_saved_model

    record = export_saved_model(args.run_id, args.results_dir, args.format)
    onnx = (record.saved_model or {}).get("onnx") or {}
    for line in describe_onnx(onnx):
        print(line)
    if onnx.get("converted"):
        print(f"written to {args.results_dir / 'runs' / args.run_id / onnx['file']}")
    return 0 if onnx.get("converted") and onnx["check"].get("passed") else 1
