"""--repeats and --resume: an interrupted sweep resumes with only the missing runs; stale records
are listed and left out of the tables. Real (scikit-learn, sub-second) trainings on digits."""

from __future__ import annotations

import json

import pytest

import bench.run.executors.local
from bench.cli import main
from bench.core.errors import BenchError
from bench.core.spec import RunSpec
from bench.results.store.files import record_path
from bench.results.store.stale import current_records
from bench.run.executors.local import SweepClock
from bench.run.resume import plan_resume
from bench.run.selection import build_runs, seed_list

SWEEP = ["run", "--model", "sgd_probe:quick,sgd_probe", "--dataset", "digits", "--repeats", "2"]


@pytest.fixture
def counted_runs(monkeypatch, sgd_model):
    """Record every run the executor starts; ``interrupt_at`` makes the n-th run press Ctrl-C
    from inside training (its epoch callback), as a user would mid-run."""
    real_execute = bench.run.executors.local.execute_run
    state = {"started": [], "interrupt_at": None}

    def execute(run, dataset=None, on_epoch=None):
        state["started"].append((run.label, run.seed))
        if len(state["started"]) == state["interrupt_at"]:

            def ctrl_c(entry):
                raise KeyboardInterrupt

            return real_execute(run, dataset, on_epoch=ctrl_c)
        return real_execute(run, dataset, on_epoch=on_epoch)

    monkeypatch.setattr(bench.run.executors.local, "execute_run", execute)
    return state


def records_by_run(results):
    return {p.parent.name: json.loads(p.read_text()) for p in results.glob("runs/*/record.json")}


def test_interrupted_sweep_resumes_with_only_the_missing_runs(tmp_path, counted_runs, capsys):
    results = tmp_path / "results"
    counted_runs["interrupt_at"] = 3  # runs 1-2 finish, Ctrl-C inside run 3 of 4
    assert main([*SWEEP, "--results-dir", str(results)]) == 130
    before = records_by_run(results)
    assert len(before) == 2
    assert counted_runs["started"] == [
        ("sgd_probe:quick", 0),
        ("sgd_probe", 0),
        ("sgd_probe:quick", 1),
    ], "repeats run interleaved: seed 0 of every model first"
    capsys.readouterr()

    counted_runs.update(started=[], interrupt_at=None)
    assert main([*SWEEP, "--resume", "--results-dir", str(results), "--no-report"]) == 0
    out = capsys.readouterr().out
    assert counted_runs["started"] == [("sgd_probe:quick", 1), ("sgd_probe", 1)]
    assert "resume: 2 of 4 run(s) already have an ok record and are skipped; 2 to run" in out
    assert "skip sgd_probe:quick/digits: seeds 0" in out
    assert "[1/2] sgd_probe:quick on digits, seed 1: training" in out
    assert "2 ok, 0 failed (2 skipped: already done)" in out
    after = records_by_run(results)
    assert len(after) == 4 and all(r["status"] == "ok" for r in after.values())
    for run_id, record in before.items():
        assert after[run_id] == record, "finished records are kept, not redone"
    assert sorted((r["run"]["preset"], r["run"]["seed"]) for r in after.values()) == [
        ("default", 0),
        ("default", 1),
        ("quick", 0),
        ("quick", 1),
    ]

    counted_runs.update(started=[])
    assert main([*SWEEP, "--resume", "--results-dir", str(results), "--no-report"]) == 0
    assert counted_runs["started"] == [], "a finished sweep resumes to nothing"


def test_failed_malformed_and_missing_records_rerun(tmp_path, counted_runs, capsys):
    results = tmp_path / "results"
    assert main([*SWEEP, "--results-dir", str(results), "--no-report"]) == 0
    runs = {
        (r.label, r.seed): r
        for r in build_runs(["sgd_probe:quick", "sgd_probe"], ["digits"], [0, 1])
    }
    failed = record_path(results, runs[("sgd_probe", 0)].run_id)
    record = json.loads(failed.read_text())
    failed.write_text(
        json.dumps(dict(record, status="failed", error={"type": "X", "message": "m"}))
    )
    malformed = record_path(results, runs[("sgd_probe:quick", 1)].run_id)
    malformed.write_text(json.dumps(dict(json.loads(malformed.read_text()), metrics={})))
    record_path(results, runs[("sgd_probe", 1)].run_id).unlink()
    capsys.readouterr()

    counted_runs.update(started=[])
    assert main([*SWEEP, "--resume", "--results-dir", str(results), "--no-report"]) == 0
    out = capsys.readouterr().out
    assert sorted(counted_runs["started"]) == [
        ("sgd_probe", 0),
        ("sgd_probe", 1),
        ("sgd_probe:quick", 1),
    ]
    assert "rerun sgd_probe/digits (failed before): seeds 0" in out
    assert "rerun sgd_probe:quick/digits (unusable record (status ok but accuracy" in out
    assert all(r["status"] == "ok" for r in records_by_run(results).values())


def test_changed_model_code_is_not_done_and_its_records_go_stale(tmp_path, monkeypatch, sgd_model):
    """The fingerprint of a model's code is part of its run id: changing the code means the
    old records are neither resumed nor averaged with new ones."""
    results = tmp_path / "results"
    sweep = ["run", "--model", "sgd_probe", "--dataset", "digits", "--repeats", "2"]
    assert main([*sweep, "--results-dir", str(results), "--no-report"]) == 0
    runs = build_runs(["sgd_probe"], ["digits"], [0, 1])
    assert len(plan_resume(runs, results).done) == 2

    monkeypatch.setattr("bench.run.selection.model_fingerprint", lambda spec: "changed")
    changed = build_runs(["sgd_probe"], ["digits"], [0, 1])
    plan = plan_resume(changed, results)
    assert plan.done == [] and len(plan.todo) == 2, "changed code is never done"
    assert (
        main(
            [*sweep, "--seed", "0", "--repeats", "1", "--results-dir", str(results), "--no-report"]
        )
        == 0
    )
    record_set = current_records(results)
    assert [r.run.code_fingerprint for r in record_set.current] == ["changed"]
    assert sorted(s.seed for s in record_set.stale) == [0, 1]
    assert all("model code changed" in s.reason for s in record_set.stale)


def test_another_config_is_not_done_and_its_old_records_are_left_out(tmp_path, capsys, sgd_model):
    results = tmp_path / "results"
    assert (
        main(
            ["run", "--model", "sgd_probe:quick", "--dataset", "digits", "--repeats", "2"]
            + ["--results-dir", str(results), "--no-report"]
        )
        == 0
    )
    changed = build_runs(["sgd_probe:quick"], ["digits"], [0, 1], ["alpha=0.01"])
    plan = plan_resume(changed, results)
    assert plan.done == [] and len(plan.todo) == 2, "a new config is a new run"

    assert (
        main(
            ["run", "--model", "sgd_probe:quick", "--dataset", "digits", "--set", "alpha=0.01"]
            + ["--results-dir", str(results)]
        )
        == 0
    )
    record_set = current_records(results)
    assert [(r.seed, r.config["alpha"]) for r in record_set.current] == [(0, 0.01)]
    assert sorted(s.seed for s in record_set.stale) == [0, 1]
    assert all("alpha 0.001 (newest: 0.01)" in s.reason for s in record_set.stale)
    runs_md = (results / "RUNS.md").read_text()
    assert "## Left out: stale records" in runs_md
    assert "other config than the newest run: alpha 0.001 (newest: 0.01)" in runs_md


def test_records_of_another_schema_and_broken_files_are_listed_not_used(tmp_path):
    run = RunSpec(model="logreg", preset="quick", dataset="digits", seed=0)
    path = record_path(tmp_path, run.run_id)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema_version": 0, "run": run.to_dict(), "status": "ok"}))
    broken = record_path(tmp_path, "broken")
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    record_set = current_records(tmp_path)
    assert record_set.current == []
    reasons = sorted(s.reason for s in record_set.stale)
    assert reasons[0].startswith("unreadable: not valid JSON")
    assert reasons[1].startswith("unreadable: schema 0; this version reads schemas 1 and")
    assert [s.label for s in record_set.stale if "schema 0" in s.reason] == ["logreg:quick"]


def test_seed_list_and_its_error():
    assert seed_list(5, 3) == [5, 6, 7]
    assert seed_list(0) == [0]
    with pytest.raises(BenchError, match="--repeats must be at least 1"):
        seed_list(0, 0)
    with pytest.raises(BenchError, match="--seed must be 0 or more"):
        seed_list(-1)


def test_sweep_clock_estimates_from_runs_of_the_same_model(sgd_model):
    runs = build_runs(["sgd_probe:quick", "sgd_probe"], ["digits"], [0, 1])
    clock = SweepClock(runs)
    assert clock.after(0) is None, "no estimate before a run finished"
    clock.finished(runs[0], 2.0)
    assert clock.after(0) == pytest.approx(3 * 2.0), "unseen models borrow the overall mean"
    clock.finished(runs[1], 10.0)
    clock.finished(runs[2], 4.0)
    assert clock.after(2) == pytest.approx(10.0), "seed 1 is estimated by seed 0 of its model"


def test_a_deterministic_model_runs_once_however_many_repeats(sgd_model):
    runs = build_runs(["knn", "sgd_probe"], ["digits"], [0, 1, 2])
    assert [(r.model, r.seed) for r in runs] == [
        ("knn", 0),
        ("sgd_probe", 0),
        ("sgd_probe", 1),
        ("sgd_probe", 2),
    ]
