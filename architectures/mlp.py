"""Multilayer perceptrons on the flattened pixels."""

from __future__ import annotations

from typing import Any

from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model
from bench.models.space import Choice, FloatRange, IntRange


def adam_cosine(config: dict[str, Any], steps_per_epoch: int) -> Any:
    """Adam whose learning rate follows a cosine from its start value to zero over training.

    The decay to zero settles the weights at the end, so the last epoch's accuracy (the one
    the leaderboard reports) does not depend on where a constant-rate run happened to stop.
    """
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config["learning_rate"],
        decay_steps=max(1, config["epochs"] * steps_per_epoch),
    )
    return keras.optimizers.Adam(learning_rate=schedule)


@register_model(
    family="keras",
    preprocess=flatten_and_scale,
    config={
        "epochs": 12,
        "batch_size": 128,
        "learning_rate": 0.001,
        "hidden_units": 512,
        "hidden_layers": 2,
        "dropout": 0.2,
    },
    presets={"quick": {"epochs": 2}, "small": {"hidden_units": 128}},
    optimizer=adam_cosine,
    tuning="common defaults (Adam 1e-3, 2x512, dropout 0.2); cosine decay added while the "
    "trainer still validated on the test set (commit dab8f1c, docs/protocol.md)",
    space={
        "learning_rate": FloatRange(1e-4, 1e-2, log=True),
        "batch_size": Choice((32, 64, 128, 256)),
        "epochs": IntRange(1, 20),
        "hidden_units": Choice((128, 256, 512, 1024)),
        "hidden_layers": IntRange(1, 3),
        "dropout": FloatRange(0.0, 0.5),
    },
)
def mlp(config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Any:
    """Two dense ReLU layers of 512 with dropout 0.2; Adam with a cosine learning-rate decay."""
    import keras
    from keras import layers

    model_layers: list[Any] = [keras.Input(shape=input_shape)]
    for _ in range(config["hidden_layers"]):
        model_layers.append(layers.Dense(config["hidden_units"], activation="relu"))
        model_layers.append(layers.Dropout(config["dropout"]))
    model_layers.append(layers.Dense(num_classes, activation="softmax"))
    return keras.Sequential(model_layers, name="mlp")
