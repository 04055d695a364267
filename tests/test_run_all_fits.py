"""``run --all --dataset digits``: the models that cannot take 8x8 images are left out with a
note, not refused (README: digits is the small dataset for quick experiments)."""

from __future__ import annotations

from bench.commands.run import all_installed_models
from bench.models.registry import get_model
from bench.run.preflight import check_sweep, fitting_runs
from bench.run.selection import build_runs


def test_all_on_digits_leaves_out_the_models_that_need_bigger_images(tmp_path):
    models = all_installed_models()
    runs = build_runs(models, ["digits"], [0])
    notes: list[str] = []
    kept = fitting_runs(runs, notes.append)
    too_big = {m for m in models if (get_model(m).min_image_size or 0) > 8}
    assert {"article_cnn", "lenet5"} <= too_big
    assert {r.model for r in kept} == {r.model for r in runs} - too_big
    assert any(
        n.startswith("--all: leaving out lenet5 on digits: needs images of at least 28x28")
        for n in notes
    )
    check_sweep(kept, tmp_path, say=notes.append)  # what is left passes every check
