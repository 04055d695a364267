"""The built-in models: the article CNN exactly as published, and each model's input shapes."""

from __future__ import annotations

import numpy as np
import pytest

from bench.models.family import count_parameters, make_adapter
from bench.models.registry import get_model

ARTICLE_LAYERS = [
    ("Conv2D", {"filters": 64, "kernel_size": (3, 3), "padding": "valid"}),
    ("MaxPooling2D", {"pool_size": (2, 2)}),
    ("Activation", {"activation": "relu"}),
    ("Dropout", {"rate": 0.25}),
    ("Conv2D", {"filters": 32, "kernel_size": (3, 3), "padding": "valid"}),
    ("MaxPooling2D", {"pool_size": (2, 2)}),
    ("Activation", {"activation": "relu"}),
    ("Dropout", {"rate": 0.25}),
    ("Flatten", {}),
    ("Dense", {"units": 512, "activation": "relu"}),
    ("Dropout", {"rate": 0.25}),
    ("Dense", {"units": 256, "activation": "relu"}),
    ("Dense", {"units": 10, "activation": "softmax"}),
]


@pytest.fixture(scope="module")
def article_model():
    spec = get_model("article_cnn")
    return make_adapter(spec, dict(spec.config), (28, 28, 1), 10).model


def test_article_cnn_layers_match_the_article(article_model):
    assert len(article_model.layers) == len(ARTICLE_LAYERS)
    for layer, (kind, expected) in zip(article_model.layers, ARTICLE_LAYERS, strict=True):
        assert type(layer).__name__ == kind
        config = layer.get_config()
        for key, value in expected.items():
            got = tuple(config[key]) if isinstance(value, tuple) else config[key]
            assert got == value, f"{layer.name}.{key}: {got!r} != {value!r}"


def test_article_cnn_has_563114_parameters(article_model):
    assert article_model.count_params() == 563_114


def test_article_cnn_training_recipe():
    spec = get_model("article_cnn")
    config = dict(spec.config)
    assert config["epochs"] == 9  # fit(epochs=10, initial_epoch=1)
    assert config["batch_size"] == 32
    optimizer = spec.optimizer(config, steps_per_epoch=1875)
    opt_config = optimizer.get_config()
    assert type(optimizer).__name__ == "SGD"
    assert opt_config["momentum"] == 0.0
    assert opt_config["nesterov"] is True
    import keras

    schedule = keras.optimizers.schedules.deserialize(opt_config["learning_rate"])
    sched_config = schedule.get_config()
    assert type(schedule).__name__ == "InverseTimeDecay"
    assert sched_config["initial_learning_rate"] == pytest.approx(0.001)
    assert sched_config["decay_steps"] == 1
    assert sched_config["decay_rate"] == pytest.approx(1e-6)
    # lr / (1 + 1e-6 * step): the old Keras per-batch decay
    assert float(schedule(0)) == pytest.approx(0.001)
    assert float(schedule(16_875)) == pytest.approx(0.001 / (1 + 1e-6 * 16_875))
    assert spec.loss is None  # categorical cross-entropy, the trainer's default


def test_mlp_and_logreg_sizes():
    mlp = get_model("mlp")
    assert (
        count_parameters(mlp, dict(mlp.config), (28, 28), 10)
        == 784 * 512 + 512 + 512 * 512 + 512 + 5130
    )
    logreg = get_model("logreg")
    assert count_parameters(logreg, dict(logreg.config), (28, 28), 10) == 784 * 10 + 10


@pytest.mark.parametrize(
    ("name", "shape"),
    [("article_cnn", (5, 28, 28, 1)), ("mlp", (5, 784)), ("logreg", (5, 784))],
)
def test_preprocessing_shapes_and_scale(name, shape):
    images = np.full((5, 28, 28), 255, dtype=np.uint8)
    images[:, 0, 0] = 0
    out = get_model(name).preprocess(images)
    assert out.shape == shape
    assert out.dtype == np.float32
    assert out.max() == 1.0 and out.min() == 0.0
