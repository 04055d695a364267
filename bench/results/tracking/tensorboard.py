"""TensorBoard tracker: one folder of event files per run, under ``<results>/tensorboard/``.

Each epoch of a run's history becomes a step with the scalars ``loss/train``, ``loss/val``,
``accuracy/train``, ``accuracy/val`` (so train and validation share a chart) and
``epoch/<key>`` for the other numbers (seconds, iterations, ...), time-stamped when the epoch
ended; the test metrics are ``test/<metric>`` at the last step. Point TensorBoard at the folder:
``tensorboard --logdir results/tensorboard``.

The event file is built from TensorBoard's own protocol buffers and record framing (package
``tensorboard``), in memory, and written atomically: TensorBoard's writer would import
TensorFlow (seconds) for its file access. A rerun of the same run id replaces that run's event
file, as its record is replaced.
"""

from __future__ import annotations

import io
import socket
import time
from pathlib import Path
from typing import Any

from bench.core.fsutil import atomic_write_bytes
from bench.results.store.record import RunRecord
from bench.results.tracking import epoch_values, register_tracker, timestamp

FOLDER = "tensorboard"
EVENT_FILE_PREFIX = "events.out.tfevents."
SHARED_CHARTS = {
    "loss": "loss/train",
    "val_loss": "loss/val",
    "accuracy": "accuracy/train",
    "val_accuracy": "accuracy/val",
}


@register_tracker(
    "tensorboard",
    requirement="mnist-bench[tensorboard]",
    description="per-epoch scalars as TensorBoard event files under <results>/tensorboard/",
)
def open_tensorboard(results_dir: Path, tracking_uri: str | None = None) -> TensorBoardTracker:
    """Check that the ``tensorboard`` package is there; ``tracking_uri`` is not used."""
    return TensorBoardTracker()


def scalar_tag(key: str) -> str:
    """The chart a history value goes to: ``val_loss`` -> ``loss/val``, ``seconds`` ->
    ``epoch/seconds``."""
    return SHARED_CHARTS.get(key, f"epoch/{key}")


class EventFile:
    """Scalar summaries collected in memory in TensorBoard's event-file format."""

    def __init__(self) -> None:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter
        from tensorboard.util import tensor_util

        self._event_pb2, self._summary_pb2, self._tensor_util = event_pb2, summary_pb2, tensor_util
        self._buffer = io.BytesIO()
        self._records = RecordWriter(self._buffer)
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def add_scalar(self, tag: str, value: float, step: int, wall_time: float | None) -> None:
        """One point of the scalar chart ``tag``, as ``tf.summary.scalar`` writes it."""
        import numpy as np

        metadata = self._summary_pb2.SummaryMetadata(
            plugin_data=self._summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
            data_class=self._summary_pb2.DataClass.DATA_CLASS_SCALAR,
        )
        event = self._event_pb2.Event(wall_time=wall_time or time.time(), step=int(step))
        tensor = self._tensor_util.make_tensor_proto(np.float32(value))
        event.summary.value.add(tag=tag, tensor=tensor, metadata=metadata)
        self._write(event)

    def _write(self, event: Any) -> None:
        self._records.write(event.SerializeToString())

    def content(self) -> bytes:
        """The file's bytes so far."""
        return self._buffer.getvalue()


class TensorBoardTracker:
    """Writes each record's history as an event file in ``<results>/tensorboard/<run-id>/``."""

    def __init__(self) -> None:
        EventFile()  # imports the tensorboard package now: a missing one stops the command early

    def log(self, record: RunRecord, results_dir: Path) -> str:
        """Write ``record``'s per-epoch and test scalars; return the folder."""
        events = EventFile()
        started = timestamp(record.started_at)
        ended = timestamp(record.finished_at)
        step = 0
        for entry in record.history:
            step = int(entry.get("epoch", step + 1))
            elapsed = entry.get("elapsed_seconds")
            when = started + elapsed if started is not None and elapsed is not None else ended
            for key, value in epoch_values(entry).items():
                events.add_scalar(scalar_tag(key), value, step, when)
        for name, value in record.metrics.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if number and name != "n_test":
                events.add_scalar(f"test/{name}", float(value), step, ended)
        folder = Path(results_dir) / FOLDER / record.run_id
        name = f"{EVENT_FILE_PREFIX}{int(ended or time.time()):010d}.{socket.gethostname()}.bench"
        for old in folder.glob(f"{EVENT_FILE_PREFIX}*"):
            if old.name != name:
                old.unlink()
        atomic_write_bytes(folder / name, events.content())
        return f"event file in {folder}"

    def close(self) -> None:
        """Nothing to release: each run's file is complete when :meth:`log` returns."""
