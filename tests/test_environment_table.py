"""The report's environment table names no one framework: the device each run trained on and
the versions of every framework installed."""

from __future__ import annotations

import numpy as np
from synthetic_records import make_record

from bench.results.report.aggregate import environment_frame

LABELS = np.arange(100) % 10


def with_environment(model: str, **environment):
    record = make_record(model, 0, LABELS, LABELS)
    record.environment = {
        "cpu_model": "Test CPU",
        "usable_cores": 2,
        "python": "3.11",
        **environment,
    }
    return record


def test_the_device_and_the_frameworks_whatever_the_family():
    libraries = {"tensorflow": "2.21", "keras": "3.15", "torch": "2.13", "scikit-learn": "1.8"}
    cuda = {"device": "cuda", "device_name": "NVIDIA H100"}
    records = [
        with_environment("torch_gpu", libraries=libraries, framework=cuda),
        with_environment("keras_cpu", libraries=libraries, tensorflow_gpus=[]),
        with_environment("logreg", libraries={"scikit-learn": "1.8", "numpy": "2.3"}),
    ]
    frame = environment_frame(records).set_index("Models")
    assert list(frame.columns) == ["CPU", "Cores", "Device used", "Python", "Frameworks", "NumPy"]
    assert frame.loc["torch_gpu", "Device used"] == "NVIDIA H100"
    assert frame.loc["keras_cpu", "Device used"] == "CPU"
    assert frame.loc["keras_cpu", "Frameworks"] == (
        "tensorflow 2.21; keras 3.15; torch 2.13; scikit-learn 1.8"
    )
    assert frame.loc["logreg", "Frameworks"] == "scikit-learn 1.8"
