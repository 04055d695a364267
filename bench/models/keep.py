"""``--save-model``: keep a trained model, export it to ONNX, check the export, time it.

:func:`keep_model` is the one step the trainer (and ``bench tune`` for its best trial) calls
on a trained adapter: it returns the record's ``saved_model`` entry and the files to write
beside the record (the store writes them and adds their SHA-256). :func:`onnx_report` is the
ONNX part alone, which ``bench export-model`` reuses on a model loaded back from its files.

The ONNX check: the export's probabilities on every test image against the native model's,
the share of images whose most probable class is the same (at least
:data:`AGREEMENT_THRESHOLD` passes; where the native model has two classes tied for the top,
within :data:`TIE`, either counts, and ``argmax_agreement_strict`` is the share without that
allowance) and the largest difference of any probability. Then the
export is timed under ONNX Runtime with the functions and settings of the native figures,
and each ONNX Runtime figure is divided by its native twin (``ratio``). A model without an
ONNX form records why (``converted: false``); the run itself still succeeds.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from bench.measure.onnx_runtime import measure_ort_speed, open_session
from bench.models.portable import ONNX_FILE, NotConvertible, OnnxExport, SavedFiles

AGREEMENT_THRESHOLD = 0.999
TIE = 1e-6
"""Native probabilities this close to the image's highest count as tied for the top class."""


class Keepable(Protocol):
    """The adapter methods ``--save-model`` uses (see :mod:`bench.models.portable`)."""

    def save_model(self) -> SavedFiles: ...

    def export_onnx(self, sample: np.ndarray) -> OnnxExport: ...


def keep_model(
    adapter: Keepable,
    x_test_in: np.ndarray,
    test_proba: np.ndarray,
    native_timings: dict[str, Any],
    *,
    image_shape: tuple[int, ...],
    num_classes: int,
    repeats: int,
    latency_images: int,
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The record's ``saved_model`` entry and the files to store, for a trained ``adapter``.

    ``test_proba`` are the native model's test probabilities and ``native_timings`` its
    ``inference`` and ``latency`` figures, measured in this process; ``repeats`` and
    ``latency_images`` are the settings those figures were measured with.
    """
    saved = adapter.save_model()
    files = dict(saved.files)
    onnx, content = onnx_report(
        adapter, x_test_in, test_proba, native_timings, repeats, latency_images
    )
    if content is not None:
        files[ONNX_FILE] = content
    entry = {
        "native": saved.describe(),
        "onnx": onnx,
        "image_shape": list(image_shape),
        "input_shape": list(x_test_in.shape[1:]),
        "num_classes": int(num_classes),
    }
    return entry, files


def onnx_report(
    adapter: Keepable,
    x_test_in: np.ndarray,
    native_proba: np.ndarray,
    native_timings: dict[str, Any],
    repeats: int,
    latency_images: int,
) -> tuple[dict[str, Any], bytes | None]:
    """Export ``adapter``'s model to ONNX, check it on ``x_test_in``, time it under ONNX
    Runtime; return the record's ``onnx`` entry and the file's content (None when there is
    no export)."""
    try:
        export = adapter.export_onnx(x_test_in[:2])
    except NotConvertible as refusal:
        return {"converted": False, "reason": str(refusal)}, None
    except Exception as error:  # an exporter's own bug must not cost the run its record
        return {"converted": False, "reason": f"{type(error).__name__}: {error}"}, None
    try:
        session = open_session(export.content, export.output_name)
        onnx_proba = session.predict_proba(x_test_in)
    except Exception as error:
        reason = f"ONNX Runtime cannot run the export: {type(error).__name__}: {error}"
        return {"converted": False, "exporter": export.exporter, "reason": reason}, None
    entry: dict[str, Any] = {
        "converted": True,
        "file": ONNX_FILE,
        "exporter": export.exporter,
        "opset": export.opset,
        "output": session.output_name,
        "check": agreement(native_proba, onnx_proba),
    }
    speed = measure_ort_speed(session, x_test_in, repeats, latency_images)
    entry["onnxruntime"] = speed
    entry["native"] = native_speed(native_timings)
    entry["ratio"] = speed_ratios(speed, entry["native"])
    return entry, export.content


def agreement(native: np.ndarray, exported: np.ndarray) -> dict[str, Any]:
    """How closely the export's probabilities follow the native model's, image by image."""
    native = np.asarray(native, dtype=np.float64)
    exported = np.asarray(exported, dtype=np.float64)
    if native.shape != exported.shape:
        return {
            "n": int(len(native)),
            "passed": False,
            "reason": f"probabilities of shape {exported.shape}, native {native.shape}",
            "threshold": AGREEMENT_THRESHOLD,
        }
    picked = exported.argmax(axis=1)
    top = native.max(axis=1)
    # a class tied with the native model's best (a forest's 8 of 20 votes for two classes)
    # is as good an answer: which of them argmax returns is float rounding, not the export
    agrees = native[np.arange(len(native)), picked] >= top - TIE
    tied = np.sum(native >= (top - TIE)[:, np.newaxis], axis=1) > 1
    same = float(np.mean(agrees))
    return {
        "n": int(len(native)),
        "argmax_agreement": same,
        "argmax_agreement_strict": float(np.mean(native.argmax(axis=1) == picked)),
        "native_ties": int(np.sum(tied)),
        "max_abs_probability_diff": float(np.max(np.abs(native - exported))),
        "threshold": AGREEMENT_THRESHOLD,
        "passed": same >= AGREEMENT_THRESHOLD,
    }


def native_speed(timings: dict[str, Any]) -> dict[str, Any]:
    """The native figures the ONNX Runtime ones are divided by."""
    inference, latency = timings.get("inference") or {}, timings.get("latency") or {}
    return {
        "samples_per_s": inference.get("samples_per_s"),
        "latency_p50_ms": latency.get("median_ms"),
        "latency_p99_ms": latency.get("p99_ms"),
        "method": timings.get("method"),
    }


def speed_ratios(ort: dict[str, Any], native: dict[str, Any]) -> dict[str, float | None]:
    """ONNX Runtime / native for throughput (above 1: ONNX Runtime serves more images per
    second) and for latency p50 and p99 (below 1: ONNX Runtime answers sooner)."""

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or not b else float(a) / float(b)

    return {
        "throughput": ratio(ort["inference"]["samples_per_s"], native["samples_per_s"]),
        "latency_p50": ratio(ort["latency"]["median_ms"], native["latency_p50_ms"]),
        "latency_p99": ratio(ort["latency"]["p99_ms"], native["latency_p99_ms"]),
    }


def describe_onnx(entry: dict[str, Any]) -> list[str]:
    """The ``onnx`` entry of a record in a few lines, for the console."""
    if not entry.get("converted"):
        return [f"no ONNX export: {entry.get('reason', 'not exported')}"]
    check = entry["check"]
    if "argmax_agreement" not in check:
        return [f"ONNX export ({entry['exporter']}) does not match: {check.get('reason')}"]
    verdict = "passed" if check["passed"] else f"FAILED (below {check['threshold']:.1%})"
    lines = [
        f"ONNX export ({entry['exporter']}): same class as the native model on "
        f"{check['argmax_agreement']:.2%} of {check['n']:,} test images, {verdict}; largest "
        f"probability difference {check['max_abs_probability_diff']:.2g}"
    ]
    ratio, ort = entry.get("ratio") or {}, entry.get("onnxruntime") or {}
    if ort:
        throughput = ort["inference"]["samples_per_s"]
        p50 = ort["latency"]["median_ms"]
        lines.append(
            f"ONNX Runtime: {throughput:,.0f} images/s in batches, {p50:.3f} ms per image "
            f"(p50); ONNX Runtime / native: throughput {_times(ratio.get('throughput'))}, "
            f"latency p50 {_times(ratio.get('latency_p50'))}"
        )
    return lines


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"
