"""Run records: the typed record's JSON round trip, checks on malformed files, the schema-1
migration, atomic writes, and reading a folder that holds bad files."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench.core.spec import RunSpec
from bench.results.store.files import (
    read_probabilities,
    read_record,
    record_path,
    scan_records,
    write_record,
)
from bench.results.store.record import SCHEMA_VERSION, RecordError, RunError, RunRecord, migrate

COMMITTED = Path(__file__).resolve().parent / "data" / "schema1" / "runs"


def make_record(seed: int = 0, accuracy: float = 0.5, **extra) -> RunRecord:
    run = RunSpec("mlp", "default", "digits", seed, {"epochs": 1}, code_fingerprint="abc")
    fields = {
        "metrics": {"accuracy": accuracy, "n_test": 2},
        "predictions": [0, 1],
        "test_labels": [0, 0],
        "environment": {"cpu_model": "test"},
    }
    fields.update(extra)
    return RunRecord(
        run=run, status="ok", started_at="s", finished_at=f"2026-01-0{seed + 1}", **fields
    )


def test_round_trip_keeps_every_field_and_derives_identity(tmp_path):
    record = make_record(probability_arrays={"test": np.array([[0.25, 0.75], [1.0, 0.0]])})
    path = write_record(tmp_path, record)
    assert path == record_path(tmp_path, record.run_id)
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert "model" not in data and data["run"]["model"] == "mlp", "identity is stored once"
    back = read_record(path)
    assert back.to_dict() == record.to_dict()
    assert (back.label, back.dataset, back.seed, back.accuracy) == ("mlp", "digits", 0, 0.5)
    assert back.config_hash == record.run.config_hash()
    probabilities = read_probabilities(tmp_path, back)
    np.testing.assert_array_equal(probabilities["test"], [[0.25, 0.75], [1.0, 0.0]])
    assert not list(path.parent.glob(".*.tmp")), "temporary files must not be left behind"


def test_failed_record_round_trips_with_its_error(tmp_path):
    run = RunSpec("mlp", "default", "digits", 0)
    record = RunRecord.failed(
        run, RunError("ValueError", "bad", "trace"), started_at="a", finished_at="b"
    )
    back = read_record(write_record(tmp_path, record))
    assert not back.ok and str(back.error) == "ValueError: bad"


def test_the_code_fingerprint_is_part_of_the_run_id():
    a = RunSpec("mlp", "default", "digits", 0, {"epochs": 1}, code_fingerprint="aaa")
    b = RunSpec("mlp", "default", "digits", 0, {"epochs": 1}, code_fingerprint="bbb")
    assert a.run_id != b.run_id


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: None, "must be a JSON object"),
        (lambda d: [d], "must be a JSON object"),
        (lambda d: {**d, "status": "maybe"}, "status must be"),
        (lambda d: {**d, "run": "x"}, "bad 'run' field"),
        (lambda d: {**d, "run": {**d["run"], "seed": "zero"}}, "bad 'run' field"),
        (lambda d: {**d, "metrics": {}}, "accuracy is None"),
        (lambda d: {**d, "metrics": {"accuracy": math.nan}}, "accuracy is nan"),
        (lambda d: {**d, "metrics": {"accuracy": 1.5}}, "outside"),
        (lambda d: {**d, "predictions": [0]}, "1 predictions for 2 test labels"),
        (lambda d: {**d, "history": {}}, "'history' has the wrong type"),
        (lambda d: {**d, "schema_version": 99}, "schema 99"),
    ],
)
def test_malformed_records_are_refused_with_a_reason(change, reason):
    with pytest.raises(RecordError, match=reason):
        RunRecord.from_dict(change(make_record().to_dict()))


def test_a_folder_with_bad_files_reads_the_good_ones_and_names_the_rest(tmp_path):
    write_record(tmp_path, make_record())
    for name, text in {"broken": "{not json", "null": "null", "okless": '{"status": "ok"}'}.items():
        path = record_path(tmp_path, name)
        path.parent.mkdir(parents=True)
        path.write_text(text)
    records, problems = scan_records(tmp_path)
    assert [r.run_id for r in records] == [make_record().run_id]
    reasons = {p.path.parent.name: p.reason for p in problems}
    assert set(reasons) == {"broken", "null", "okless"}
    assert "not valid JSON" in reasons["broken"]
    assert "JSON object" in reasons["null"]


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["run", "status", "metrics", "predictions", "schema_version", "x"]),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
@example({"status": None, "run": [None], "schema_version": True})  # once a TypeError
@example({"status": None, "run": [None], "schema_version": 1})
def test_arbitrary_json_is_either_a_record_or_a_record_error(data):
    with contextlib.suppress(RecordError):
        RunRecord.from_dict(data)


def test_committed_schema_1_records_migrate_with_their_numbers():
    paths = sorted(COMMITTED.glob("*/record.json"))
    if not paths:
        pytest.skip("no committed records")
    for path in paths:
        data = json.loads(path.read_text())
        if data.get("schema_version") != 1:
            continue
        record = RunRecord.from_dict(data)
        assert record.run_id == data["run_id"], "old run ids stay the same"
        assert record.accuracy == data["metrics"]["accuracy"]
        assert record.train_seconds == data["timings"]["training"]["train_seconds"]
        assert "schema 1" in record.notes[0]
        assert migrate(data)["schema_version"] == SCHEMA_VERSION
