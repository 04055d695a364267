"""The CNN from the Keras MNIST tutorial article, reproduced layer for layer.

Facts kept exactly (see DEVELOPERS.md): Conv2D(64, 3x3, valid) > MaxPool 2x2 > ReLU >
Dropout 0.25 > Conv2D(32, 3x3) > MaxPool 2x2 > ReLU > Dropout 0.25 > Flatten > Dense 512 ReLU >
Dropout 0.25 > Dense 256 ReLU > Dense 10 softmax (563,114 parameters on 28x28x1 inputs);
SGD with learning rate 0.001, momentum 0, nesterov=True and the old Keras ``decay=1e-6``
expressed as an inverse-time schedule per batch step; batch 32; 9 epochs (the article calls
``fit(epochs=10, initial_epoch=1)``); categorical cross-entropy.

``steps_per_execution=32`` changes how the steps are run, not what they compute: the same
batches, in the same order, through the same optimizer steps, 32 of them per call of the
compiled train function instead of one (the Python round trip per batch of 32 images was a
large share of a step on 2 cores; see docs/speed.md).
"""

from __future__ import annotations

from typing import Any

from bench.models.preprocess import images_with_channel
from bench.models.registry import register_model


def article_sgd(config: dict[str, Any], steps_per_epoch: int) -> Any:
    """SGD with lr / (1 + decay * step): what Keras 2's ``SGD(decay=...)`` did per batch."""
    import keras

    schedule = keras.optimizers.schedules.InverseTimeDecay(
        initial_learning_rate=config["learning_rate"],
        decay_steps=1,
        decay_rate=config["decay"],
    )
    return keras.optimizers.SGD(
        learning_rate=schedule, momentum=config["momentum"], nesterov=config["nesterov"]
    )


@register_model(
    family="keras",
    preprocess=images_with_channel,
    config={
        "epochs": 9,
        "batch_size": 32,
        "learning_rate": 0.001,
        "decay": 1e-6,
        "momentum": 0.0,
        "nesterov": True,
        "dropout": 0.25,
        "validate_on": "holdout",
        # Execution only, not the math: 32 batches per call of the compiled train step.
        "steps_per_execution": 32,
    },
    presets={
        "quick": {"epochs": 1},
        # The tutorial exactly: all 60,000 training images, the test set as validation data.
        "tutorial": {"validate_on": "test"},
    },
    optimizer=article_sgd,
    tuning="from the tutorial (not tuned here)",
    min_image_size=10,
)
def article_cnn(config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Any:
    """The Keras tutorial's CNN: 2 conv blocks + 3 dense layers, plain SGD (563,114 params)."""
    import keras
    from keras import layers

    rate = config["dropout"]
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(64, (3, 3), padding="valid"),
            layers.MaxPooling2D((2, 2)),
            layers.Activation("relu"),
            layers.Dropout(rate),
            layers.Conv2D(32, (3, 3)),
            layers.MaxPooling2D((2, 2)),
            layers.Activation("relu"),
            layers.Dropout(rate),
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dropout(rate),
            layers.Dense(256, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="article_cnn",
    )
