"""``bench export-model RUN_ID --format onnx``: (re)export a kept model and check it again.

The native model is loaded back from its files (hashes checked), its test-set probabilities
and its native speed are measured in this process, and then the ONNX export is made, checked
against them and timed under ONNX Runtime, as ``--save-model`` does inside a run
(:func:`bench.models.keep.onnx_report`). The record's ``saved_model["onnx"]`` entry and the
``model.onnx`` file beside it are replaced; a model that does not convert loses any older
ONNX file and records why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from bench.data import load_dataset
from bench.measure.timing import measure_batch_throughput, measure_latency
from bench.models.keep import Keepable, onnx_report
from bench.models.portable import ONNX_FILE
from bench.results.store.files import write_record
from bench.results.store.model_files import model_file_path
from bench.results.store.record import RunRecord
from bench.run.saved_model import load_model
from bench.run.trainer import LATENCY_IMAGES, THROUGHPUT_REPEATS

FORMATS = ("onnx",)


def export_saved_model(run_id: str, results_dir: Path, fmt: str = "onnx") -> RunRecord:
    """Export the kept model of ``run_id`` to ``fmt``, check and time it; return the updated
    record (already written)."""
    if fmt not in FORMATS:
        from bench.core.errors import BenchError

        raise BenchError(f"unknown model format {fmt!r}; choose from {', '.join(FORMATS)}")
    saved = load_model(run_id, results_dir)
    record, adapter = saved.record, saved.adapter
    data = load_dataset(record.dataset, record.run.data_dir)
    x_test_in = saved.spec.preprocess(data.x_test[: record.run.limit_test])
    native_proba = adapter.predict_proba(x_test_in)  # also the untimed warm-up pass
    native: dict[str, Any] = {
        "inference": measure_batch_throughput(
            adapter.predict_proba, x_test_in, repeats=THROUGHPUT_REPEATS, warmup=0
        ),
        "latency": measure_latency(adapter.predict_one, x_test_in, n=LATENCY_IMAGES),
        "method": adapter.inference_method,
    }
    entry, content = onnx_report(
        cast(Keepable, adapter), x_test_in, native_proba, native, THROUGHPUT_REPEATS, LATENCY_IMAGES
    )
    entry["made_by"] = "bench export-model: native figures measured again in the same process"
    kept = dict(record.saved_model or {})
    kept["onnx"] = entry
    files = dict(kept.get("files") or {})
    if content is None and files.pop(ONNX_FILE, None) is not None:
        model_file_path(results_dir, run_id, ONNX_FILE).unlink(missing_ok=True)
    kept["files"] = files
    record.saved_model = kept
    record.model_files = {ONNX_FILE: content} if content is not None else None
    write_record(results_dir, record)
    return record
