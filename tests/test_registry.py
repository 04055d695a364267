"""The model registry: names, wildcards, errors and third-party entry points."""

from __future__ import annotations

import sys
import textwrap

import pytest

from bench.core.errors import BenchError
from bench.models.registry import REGISTRY, get_model, list_models, register_model


def test_builtin_models_are_registered_with_descriptions():
    names = list_models()
    assert {"article_cnn", "mlp", "logreg"} <= set(names)
    for name in ("article_cnn", "mlp", "logreg"):
        assert get_model(name).description, f"{name} needs a one-line description"


def test_wildcards_filter_names():
    assert list_models("article_*") == ["article_cnn"]
    assert list_models("no_such_*") == []


def test_unknown_name_lists_close_matches_and_all_names():
    with pytest.raises(BenchError) as caught:
        get_model("article_cn")
    message = str(caught.value)
    assert "unknown model 'article_cn'" in message
    assert "Did you mean article_cnn" in message
    assert "logreg" in message and "mlp" in message


def test_keras_model_without_optimizer_is_rejected():
    with pytest.raises(BenchError, match="optimizer"):
        register_model(family="keras", preprocess=lambda x: x, config={"epochs": 1})


def test_preset_with_unknown_key_is_rejected():
    with pytest.raises(BenchError, match="unknown config keys"):
        register_model(
            family="sklearn",
            preprocess=lambda x: x,
            config={"C": 1.0},
            presets={"quick": {"max_iter": 3}},
        )


def test_entry_point_plugin_registers_a_model(tmp_path, monkeypatch):
    """A package declaring the entry point group adds its models on first lookup."""
    (tmp_path / "bench_plugin_models.py").write_text(
        textwrap.dedent(
            '''
            from bench.models.preprocess import flatten_and_scale
            from bench.models.registry import register_model

            @register_model(family="sklearn", preprocess=flatten_and_scale, config={"k": 3})
            def plugin_knn(config, input_shape, num_classes):
                """k-nearest neighbours from a plugin."""
                from sklearn.neighbors import KNeighborsClassifier
                return KNeighborsClassifier(n_neighbors=config["k"])
            '''
        )
    )
    dist_info = tmp_path / "bench_plugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: bench-plugin\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        "[mnist_bench.architectures]\nplugin = bench_plugin_models\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(REGISTRY, "_loaded", False)
    try:
        assert "plugin_knn" in list_models()
        assert get_model("plugin_knn").description == "k-nearest neighbours from a plugin."
    finally:
        REGISTRY.remove("plugin_knn")
        sys.modules.pop("bench_plugin_models", None)
