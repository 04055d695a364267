"""The Deploy view: each kept model in its own framework and under ONNX Runtime (pure).

For every record that kept its model (``--save-model``) the frame has one row per runtime:
the native framework (as the run timed it) and, where the model converted, ONNX Runtime on
the CPU (timed in the same process, right after). Columns: single-image latency p50 and p99,
batch throughput, the size of the file that runtime loads, and for the ONNX Runtime row the
ratios ONNX Runtime / native and the export's agreement with the native model. A model that
did not convert has an ONNX Runtime row that says why.

:func:`deploy_frame` builds the frame from records; :func:`deploy_markdown` renders it as a
report section's lines. Neither reads a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from bench.results.report.markdown_format import num, table, wrap
from bench.results.store.record import RunRecord

DEPLOY_COLUMNS = [
    "dataset",
    "label",
    "seed",
    "runtime",
    "file",
    "file_bytes",
    "samples_per_s",
    "latency_p50_ms",
    "latency_p99_ms",
    "throughput_ratio",
    "latency_p50_ratio",
    "latency_p99_ratio",
    "argmax_agreement",
    "max_abs_probability_diff",
    "session_options",
    "note",
]
ONNX_RUNTIME = "onnxruntime"


def native_runtime(record: RunRecord) -> str:
    """``"keras 3.15.1 on tensorflow 2.21.0"``, ``"torch 2.13.0+cpu"`` or
    ``"scikit-learn 1.9.1"``: the framework the run predicted with, as recorded."""
    framework = record.environment.get("framework") or {}
    if "keras" in framework:
        backend = framework.get("backend", "")
        version = framework.get(backend, "")
        return f"keras {framework['keras']} on {backend} {version}".strip()
    for name in ("torch", "scikit-learn"):
        if name in framework:
            return f"{name} {framework[name]}"
    return record.family or "native"


def _files(saved: dict[str, Any]) -> dict[str, int]:
    return {name: int(entry.get("bytes", 0)) for name, entry in (saved.get("files") or {}).items()}


def _native_row(record: RunRecord, saved: dict[str, Any]) -> dict[str, Any]:
    files = _files(saved)
    names = list(saved["native"]["files"])
    return {
        "runtime": native_runtime(record),
        "file": ", ".join(names),
        "file_bytes": sum(files.get(name, 0) for name in names),
        "samples_per_s": record.inference_samples_per_s,
        "latency_p50_ms": record.latency_p50_ms,
        "latency_p99_ms": (record.timings.get("latency") or {}).get("p99_ms"),
        "note": "; ".join(saved["native"].get("notes") or []) or None,
    }


def _onnx_row(saved: dict[str, Any]) -> dict[str, Any]:
    onnx = saved.get("onnx") or {}
    if not onnx.get("converted"):
        return {"runtime": ONNX_RUNTIME, "note": f"not converted: {onnx.get('reason', '?')}"}
    ort, ratio, check = onnx["onnxruntime"], onnx.get("ratio") or {}, onnx["check"]
    options = ort["session_options"]
    note = None if check.get("passed") else "export disagrees with the native model"
    if onnx.get("made_by"):
        note = "; ".join(filter(None, [note, onnx["made_by"]]))
    return {
        "runtime": f"{ONNX_RUNTIME} {options.get('onnxruntime', '')}".strip(),
        "file": onnx["file"],
        "file_bytes": _files(saved).get(onnx["file"]),
        "samples_per_s": ort["inference"]["samples_per_s"],
        "latency_p50_ms": ort["latency"]["median_ms"],
        "latency_p99_ms": ort["latency"]["p99_ms"],
        "throughput_ratio": ratio.get("throughput"),
        "latency_p50_ratio": ratio.get("latency_p50"),
        "latency_p99_ratio": ratio.get("latency_p99"),
        "argmax_agreement": check.get("argmax_agreement"),
        "max_abs_probability_diff": check.get("max_abs_probability_diff"),
        "session_options": (
            f"{options['intra_op_num_threads']} intra-op / {options['inter_op_num_threads']} "
            f"inter-op threads, {options['graph_optimization_level']}, batch {options['batch']}"
        ),
        "note": note,
    }


def deploy_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per (kept model, runtime), for the ok records that kept their model; sorted by
    dataset, model and seed, the native row first."""
    rows = []
    for record in records:
        saved = record.saved_model
        if not record.ok or not saved or "native" not in saved:
            continue
        identity = {"dataset": record.dataset, "label": record.label, "seed": record.seed}
        rows.append({**identity, **_native_row(record, saved)})
        rows.append({**identity, **_onnx_row(saved)})
    frame = pd.DataFrame(rows, columns=DEPLOY_COLUMNS)
    return frame.sort_values(["dataset", "label", "seed"], kind="stable").reset_index(drop=True)


def _megabytes(value: Any) -> str:
    return num(None if value is None or pd.isna(value) else value / 1e6, "{:.2f}")


def deploy_markdown(frame: pd.DataFrame) -> list[str]:
    """The Deploy section: one table per dataset, the ONNX Runtime session options, and the
    models that did not convert with the reason. Empty when no record kept its model."""
    if frame.empty:
        return []
    lines = ["## Deploy: native and ONNX Runtime", ""]
    lines += wrap(
        "Models kept with --save-model, timed in their own framework and under ONNX Runtime "
        "(CPU) in the same process, one right after the other: latency is one image per call, "
        "throughput the median pass over the test set in batches. ORT/native above 1 means more "
        "images per second for throughput and a slower answer for latency. Agreement: the "
        "share of test images where the ONNX file picks the native model's class."
    )
    for dataset, rows in frame.groupby("dataset", sort=True):
        lines += ["", f"### {dataset}", ""]
        body = [
            [
                row.label if row.seed == 0 else f"{row.label} (seed {row.seed})",
                row.runtime,
                _megabytes(row.file_bytes),
                num(row.latency_p50_ms, "{:.3f}"),
                num(row.latency_p99_ms, "{:.3f}"),
                num(row.samples_per_s, "{:,.0f}"),
                num(row.throughput_ratio, "{:.2f}x"),
                num(row.latency_p50_ratio, "{:.2f}x"),
                num(row.argmax_agreement, "{:.2%}"),
                num(row.max_abs_probability_diff, "{:.1e}"),
            ]
            for row in rows.itertuples()
            if not (isinstance(row.note, str) and row.note.startswith("not converted"))
        ]
        headers = [
            "model",
            "runtime",
            "file MB",
            "p50 ms",
            "p99 ms",
            "images/s",
            "ORT/native images/s",
            "ORT/native p50",
            "agreement",
            "max prob diff",
        ]
        lines.append(table(body, headers))
    options = frame["session_options"].dropna().unique()
    if len(options):
        lines += [""] + wrap(f"ONNX Runtime session: {'; '.join(options)}.")
    missing = frame[frame["note"].fillna("").str.startswith("not converted")]
    for row in missing.itertuples():
        lines += wrap(f"{row.label} ({row.dataset}) has no ONNX file: {row.note[15:]}", "- ")
    disagree = frame[frame["note"].fillna("").str.contains("disagrees")]
    for row in disagree.itertuples():
        lines += wrap(
            f"{row.label} ({row.dataset}): the ONNX file agrees on {row.argmax_agreement:.2%} "
            "of test images only, below 99.9%",
            "- ",
        )
    return [*lines, ""]
