"""Report sections and figures are registered units: every figure a section names is
registered and drawn, every frame it names exists, one registration puts a new section on its
page, the pairwise figure marks only real verdicts, and chance-level models are never best."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from synthetic_records import digits_records, make_record
from test_figures import with_robustness

from bench.core.errors import BenchError
from bench.results.report.aggregate import Aggregates, aggregate
from bench.results.report.figures import FIGURES, dataset_views, draw_dataset, pairwise_matrix
from bench.results.report.frames_tuning import TRIAL_COLUMNS, TUNING_FRAME
from bench.results.report.markdown import leaderboard_markdown, runs_markdown
from bench.results.report.sections import (
    HTML,
    LEADERBOARD,
    SECTIONS,
    SectionContext,
    build_section_frames,
    page,
    report_section,
)


@pytest.fixture(scope="module")
def agg():
    rng = np.random.default_rng(0)
    records = [with_robustness(r, rng) for r in digits_records()]
    agg = aggregate(records)
    build_section_frames(records, agg)
    agg.extra[TUNING_FRAME] = trials_of_one_study()
    return agg


def trials_of_one_study() -> pd.DataFrame:
    """Four trials of one search on digits, the second pruned (as trial_frame gives them)."""
    accuracy = [0.91, None, 0.95, 0.93]
    seconds = [3.0, 1.0, 3.0, 3.0]
    return pd.DataFrame(
        {
            "dataset": "digits",
            "model": "m",
            "study": "digits--m--search0",
            "search_seed": 0,
            "trial": range(4),
            "state": ["COMPLETE", "PRUNED", "COMPLETE", "COMPLETE"],
            "val_accuracy": accuracy,
            "train_seconds": seconds,
            "budget_seconds": 3.0,
            "cumulative_seconds": np.cumsum(seconds),
            "best_so_far": [0.91, 0.91, 0.95, 0.95],
        },
        columns=TRIAL_COLUMNS,
    )


def test_every_figure_a_section_names_is_registered_and_drawn(agg):
    named = {f for name in SECTIONS.names() for f in SECTIONS.get(name).figures}
    assert named <= set(FIGURES.names()), named - set(FIGURES.names())
    (view,) = dataset_views(agg, {"digits": (np.zeros((5, 8, 8), np.uint8), np.arange(5))})
    drawn = {d.figure_id for d in draw_dataset(view)}
    assert named - drawn == set(), "a figure a section names was not drawn"


def test_every_frame_a_section_names_is_in_the_aggregate(agg):
    # the aggregate's fields, the frames sections build, and the trials the writer adds
    known = {f.name for f in dataclasses.fields(Aggregates)} | set(agg.extra)
    for name in SECTIONS.names():
        section = SECTIONS.get(name)
        assert set(section.frames) <= known, (name, set(section.frames) - known)
        assert section.pages, name


def test_a_section_that_shows_an_undeclared_figure_is_an_error(agg):
    section = SECTIONS.get("pairwise")
    ctx = SectionContext(agg, section, "digits", {"reliability": "figures/x.png"})
    with pytest.raises(BenchError, match="without declaring"):
        ctx.image("reliability")
    with pytest.raises(BenchError, match="without declaring"):
        ctx.frame("history")


def test_one_registration_adds_a_section_with_its_own_frame(agg):
    def build(records, aggregate):
        return pd.DataFrame({"dataset": ["digits"], "value": [len(records)]})

    def html(ctx):
        return f"<p id='extra'>{int(ctx.frame('extra_test')['value'].iloc[0])}</p>"

    @report_section("extra_test", order=115, frames=("extra_test",), html=html, build=build)
    def extra(ctx):
        value = int(ctx.frame("extra_test")["value"].iloc[0])
        return [f"### Extra: {value} records", ""]

    try:
        assert extra in page(LEADERBOARD) and extra in page(HTML)
        agg.extra["extra_test"] = build(range(6), agg)
        text = leaderboard_markdown(agg, generated="now")
        assert text.index("### Pairwise tests") < text.index("### Extra: 6 records")
    finally:
        SECTIONS.remove("extra_test")
        agg.extra.pop("extra_test", None)


def test_pairs_without_a_verdict_carry_no_star():
    labels = ["a", "b", "c"]
    differences = pd.DataFrame(
        [[0, 0.04, 1.0], [-0.04, 0, 0.96], [-1.0, -0.96, 0]], index=labels, columns=labels
    )
    # as pairwise_frame builds it: None where there is no winner; pandas keeps it as NaN
    tested = (
        pd.DataFrame({"model_a": ["a", "a"], "model_b": ["b", "c"], "better": [None, "a"]})
        .astype({"better": "str"})
        .replace("None", None)
    )
    assert pd.isna(tested.loc[0, "better"])
    figure = pairwise_matrix(differences, tested, "t")
    texts = {t.get_text() for t in figure.axes[0].texts}
    assert "+0.04·" in texts and "-0.04·" in texts, texts
    assert "+1.00*" in texts and "+0.96" in texts, "untested pair: no mark"


def test_chance_level_models_are_flagged_and_never_best():
    rng = np.random.default_rng(1)
    labels = np.arange(1000) % 10
    records = []
    for seed in (0, 1, 2):
        good = np.where(rng.random(1000) < 0.9, labels, (labels + 1) % 10)
        sure = np.full((1000, 10), 0.01)
        sure[np.arange(1000), good] = 0.91
        records.append(make_record("good", seed, labels, good, sure))
        guess = rng.integers(0, 10, 1000)
        uniform = np.full((1000, 10), 0.1)  # guessing, and perfectly calibrated about it
        records.append(make_record("guess", seed, labels, guess, uniform))
    agg = aggregate(records)
    assert bool(agg.summary.loc[("digits", "guess"), "chance"])
    assert not agg.summary.loc[("digits", "good"), "chance"]
    assert agg.calibration.set_index("model")["ece"].idxmin() == "guess"
    rec = agg.recommendations.iloc[0]
    assert rec["chance"] == ["guess"] and rec["best_calibrated"] == "good"
    assert agg.verdicts.iloc[0]["best_calibrated"] == "good"
    text = leaderboard_markdown(agg, generated="now")
    assert "At chance level (no better than guessing; never named best): guess" in text
    assert "| guess (chance) " in text


def test_overridden_configs_are_marked_where_defaults_are_described():
    from bench.models.registry import get_model
    from bench.run.config import overridden_keys, resolve_config

    spec = get_model("logreg")
    assert overridden_keys(spec, "default", resolve_config(spec)) == []
    changed = resolve_config(spec, overrides={"C": "0.5"})
    assert overridden_keys(spec, "default", changed) == ["C"]
    labels = np.arange(100) % 10
    info = {"tuning": "C from a search", "overridden": ["C"]}
    agg = aggregate([make_record("logreg", 0, labels, labels, model_info=info)])
    cell = runs_markdown(agg, generated="now")
    assert "overridden by --set (C); defaults: C from a search" in cell
