"""What a run ran on: library versions, CPU model, cores and threads."""

from __future__ import annotations

import os
import platform
import socket
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

LIBRARIES = (
    "tensorflow",
    "keras",
    "torch",
    "jax",
    "jaxlib",
    "scikit-learn",
    "numpy",
    "pandas",
    "mnist-bench",
)


def cpu_model() -> str:
    """Return the CPU's model name from /proc/cpuinfo, or the platform's best guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> list[str]:
    """Return the vector-instruction flags of interest (AVX-512, AMX, ...) the CPU reports."""
    interesting = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "fma")
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [flag for flag in interesting if flag in flags]
    except OSError:
        pass
    return []


def library_versions() -> dict[str, str | None]:
    """Return installed versions of the libraries that shape the numbers (None if absent)."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def tensorflow_threads() -> dict[str, int] | None:
    """Return TensorFlow's intra/inter-op thread settings (0 = automatic) if TF is loaded."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    return {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def tensorflow_gpus() -> list[str] | None:
    """Names of the GPUs TensorFlow can use (empty on a CPU-only machine), if TF is loaded.

    Keras models train on a visible GPU by default, so a record must say so beside the CPU.
    """
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    gpus = tf.config.list_physical_devices("GPU")
    return [
        tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus
    ]


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def collect_environment(matmul_peaks: dict[str, Any] | None = None) -> dict[str, Any]:
    """Describe this process's machine and software for a run record.

    ``matmul_peaks`` maps a dtype to the matrix-multiply probe of :mod:`bench.measure.peak` the
    run measured its efficiency against (Keras runs), if any.
    """
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "libraries": library_versions(),
        "tensorflow_threads": tensorflow_threads(),
        "tensorflow_gpus": tensorflow_gpus(),
        "onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
        "matmul_peak": (matmul_peaks or {}).get("float32"),
        "matmul_peak_bfloat16": (matmul_peaks or {}).get("bfloat16"),
    }
