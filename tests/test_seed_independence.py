"""One decision of seed independence, read by the report, the pairwise comparison and the
export alike; the export names the two meanings of "deterministic" apart."""

from __future__ import annotations

import numpy as np
from synthetic_records import make_record

from bench.results.export.flatten import runs_frame
from bench.results.report.aggregate import aggregate
from bench.results.stats.pairwise import compare_models
from bench.results.store.seeds import seed_independent, seed_independent_groups

LABELS = np.arange(300) % 10
SAME = np.where(np.arange(300) % 7 == 0, (LABELS + 1) % 10, LABELS)


def varied(seed: int) -> np.ndarray:
    return np.where(np.arange(300) % (5 + seed) == 0, (LABELS + 3) % 10, LABELS)


def test_declared_or_identical_runs_are_seed_independent_and_varied_ones_are_not():
    fixed = [make_record("knn", seed, LABELS, SAME) for seed in (0, 1, 2)]
    declared = [make_record("svm", 0, LABELS, SAME, model_info={"deterministic": True})]
    seeded = [make_record("mlp", seed, LABELS, varied(seed)) for seed in (0, 1, 2)]
    assert seed_independent(fixed) and seed_independent(declared)
    assert not seed_independent(seeded)
    assert not seed_independent(fixed[:1]), "one undeclared run says nothing"
    assert seed_independent_groups([*fixed, *declared, *seeded]) == {
        ("digits", "knn"),
        ("digits", "svm"),
    }


def test_the_report_the_comparison_and_the_export_agree():
    fixed = [make_record("knn", seed, LABELS, SAME) for seed in (0, 1, 2)]
    seeded = [make_record("mlp", seed, LABELS, varied(seed)) for seed in (0, 1, 2)]
    records = [*fixed, *seeded]
    summary = aggregate(records).summary
    pair = compare_models(records, "knn", "mlp", "digits")
    frame = runs_frame(records).set_index("label")
    for label, expected in (("knn", True), ("mlp", False)):
        assert bool(summary.loc[("digits", label), "deterministic"]) is expected
        assert set(frame.loc[label, "seed_independent"]) == {expected}
    assert pair.deterministic_a and not pair.deterministic_b
    assert set(frame["deterministic_kernels"]) == {False}, "the --deterministic flag, apart"
