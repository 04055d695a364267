"""ONNX Runtime on the CPU: one session with stated options, and its probabilities and timings.

The session options are fixed and written into the record: ``intra_op_num_threads`` is the
number of CPUs this process may use (ONNX Runtime's own default counts physical cores, which
on a 2-vCPU machine can be one), one inter-op thread, sequential execution and every graph
optimisation (``ORT_ENABLE_ALL``). Batch inference runs in batches of :data:`BATCH` (as the
Keras and PyTorch adapters do); latency is one image per ``session.run`` call. The timing
functions are those the native figures use (:mod:`bench.measure.timing`), so the two can be
divided.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.measure.timing import measure_batch_throughput, measure_latency

BATCH = 256


def cpu_threads() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


@dataclass
class OrtModel:
    """An ONNX model in an ONNX Runtime CPU session: feed preprocessed images, get the
    ``output`` (class probabilities) back."""

    session: Any
    input_name: str
    output_name: str
    options: dict[str, Any]

    def __post_init__(self) -> None:
        self._outputs = [self.output_name]

    def run(self, x: np.ndarray) -> np.ndarray:
        """One ``session.run`` on the batch ``x`` (float32, as the model's preprocessing gives;
        anything else is converted first, outside no timer: callers time this call)."""
        if x.dtype != np.float32 or not x.flags.c_contiguous:
            x = np.ascontiguousarray(x, dtype=np.float32)
        return self.session.run(self._outputs, {self.input_name: x})[0]

    def predict_proba(self, x: np.ndarray, batch: int = BATCH) -> np.ndarray:
        """Probabilities for every row of ``x``, ``batch`` rows per call."""
        return np.concatenate([self.run(x[i : i + batch]) for i in range(0, len(x), batch)])


def open_session(content: bytes, output_name: str | None = None) -> OrtModel:
    """An ONNX Runtime CPU session of the serialized model ``content``; ``output_name`` picks
    the probabilities output (default: the first output)."""
    import onnxruntime as ort

    threads = cpu_threads()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initializers are not ours to fix
    session = ort.InferenceSession(content, options, providers=["CPUExecutionProvider"])
    outputs = [output.name for output in session.get_outputs()]
    if output_name is not None and output_name not in outputs:
        raise ValueError(f"the ONNX model has no output {output_name!r}; it has {outputs}")
    stated = {
        "onnxruntime": ort.__version__,
        "provider": "CPUExecutionProvider",
        "intra_op_num_threads": threads,
        "inter_op_num_threads": 1,
        "execution_mode": "ORT_SEQUENTIAL",
        "graph_optimization_level": "ORT_ENABLE_ALL",
        "batch": BATCH,
    }
    return OrtModel(session, session.get_inputs()[0].name, output_name or outputs[0], stated)


def measure_ort_speed(
    model: OrtModel, x: np.ndarray, repeats: int, latency_images: int
) -> dict[str, Any]:
    """Batch throughput (median of ``repeats`` passes over ``x`` after one warm-up pass) and
    single-image latency (``latency_images`` calls), as the native figures are measured."""
    return {
        "session_options": dict(model.options),
        "inference": measure_batch_throughput(model.predict_proba, x, repeats=repeats, warmup=1),
        "latency": measure_latency(model.run, x, n=latency_images),
    }
