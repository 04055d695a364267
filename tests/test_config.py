"""Config resolution: presets, --set overrides, and their errors."""

from __future__ import annotations

import pytest

from bench.core.errors import BenchError
from bench.core.spec import split_model_ref
from bench.models.registry import get_model
from bench.run.config import parse_overrides, resolve_config
from bench.run.selection import build_runs


def test_split_model_ref():
    assert split_model_ref("mlp") == ("mlp", "default")
    assert split_model_ref("article_cnn:quick") == ("article_cnn", "quick")


def test_preset_then_overrides_with_type_coercion():
    spec = get_model("article_cnn")
    config = resolve_config(spec, "quick", {"batch_size": "128", "learning_rate": "0.02"})
    assert (config["epochs"], config["momentum"]) == (2, 0.9)  # from the preset
    assert config["batch_size"] == 128 and isinstance(config["batch_size"], int)
    assert config["learning_rate"] == pytest.approx(0.02)  # the override beats the preset
    assert config["nesterov"] is True
    assert resolve_config(spec, overrides={"nesterov": "false"})["nesterov"] is False


def test_unknown_key_names_close_match():
    with pytest.raises(BenchError, match=r"no config key 'epoch'.*Did you mean epochs"):
        resolve_config(get_model("mlp"), overrides={"epoch": "3"})


def test_wrong_type_is_explained():
    with pytest.raises(BenchError, match=r"--set epochs=three: expected a value of type int"):
        resolve_config(get_model("mlp"), overrides={"epochs": "three"})


def test_unknown_preset_lists_presets():
    with pytest.raises(BenchError, match=r"no preset 'fast'.*default, quick"):
        resolve_config(get_model("mlp"), "fast")


def test_malformed_set_pair():
    with pytest.raises(BenchError, match="KEY=VALUE"):
        parse_overrides(["epochs"])


def test_overrides_route_to_models_that_have_the_key():
    runs = build_runs(["mlp", "logreg"], ["digits"], [0], ["epochs=3", "logreg.C=2.5"])
    by_model = {run.model: run.config for run in runs}
    assert by_model["mlp"]["epochs"] == 3
    assert "epochs" not in by_model["logreg"]
    assert by_model["logreg"]["C"] == 2.5


def test_override_known_to_no_selected_model_is_an_error():
    with pytest.raises(BenchError, match="none of the selected models has a config key 'max_iter'"):
        build_runs(["mlp"], ["digits"], [0], ["max_iter=5"])


def test_quick_uses_quick_presets_and_a_subset():
    runs = build_runs(["article_cnn", "logreg"], ["mnist"], [0], quick=True)
    assert {run.preset for run in runs} == {"quick"}
    assert all(run.limit_train == 5000 for run in runs)


def test_run_ids_change_with_config_and_stay_stable_otherwise():
    first = build_runs(["mlp"], ["digits"], [0])[0]
    again = build_runs(["mlp"], ["digits"], [0])[0]
    changed = build_runs(["mlp"], ["digits"], [0], ["epochs=1"])[0]
    assert first.run_id == again.run_id
    assert first.run_id != changed.run_id
    assert first.run_id.startswith("digits--mlp.default--seed0--")
