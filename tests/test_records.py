"""Run records: round trip, schema checks, atomic writes, newest-per-run selection."""

from __future__ import annotations

import json

import pytest

from bench.results.record import (
    SCHEMA_VERSION,
    load_records,
    record_path,
    validate_record,
    write_record,
)


def make_record(run_id="digits--mlp.default--seed0--abc", **extra):
    record = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "status": "ok",
        "model": "mlp",
        "preset": "default",
        "dataset": "digits",
        "seed": 0,
        "config": {"epochs": 1},
        "environment": {"cpu_model": "test"},
        "finished_at": "2026-01-01T00:00:00+00:00",
    }
    record.update(extra)
    return record


def test_round_trip(tmp_path):
    record = make_record(metrics={"accuracy": 0.5})
    path = write_record(tmp_path, record)
    assert path == record_path(tmp_path, record["run_id"])
    assert json.loads(path.read_text()) == record
    assert load_records(tmp_path) == [record]
    assert not list(path.parent.glob(".*.tmp")), "temporary files must not be left behind"


def test_missing_fields_and_bad_status_are_rejected():
    with pytest.raises(ValueError, match="missing fields: seed"):
        validate_record({k: v for k, v in make_record().items() if k != "seed"})
    with pytest.raises(ValueError, match="status must be"):
        validate_record(make_record(status="maybe"))


def test_other_schema_and_corrupt_files_are_skipped_with_a_warning(tmp_path, capsys):
    write_record(tmp_path, make_record())
    write_record(tmp_path, make_record(run_id="old", schema_version=SCHEMA_VERSION - 1))
    broken = record_path(tmp_path, "broken")
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    records = load_records(tmp_path)
    assert [r["run_id"] for r in records] == ["digits--mlp.default--seed0--abc"]
    err = capsys.readouterr().err
    assert "old" in err and "schema" in err and "broken" in err
