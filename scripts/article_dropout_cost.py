"""What dropout's random numbers cost article_cnn's training steps (Keras on TensorFlow).

Three versions of article_cnn train through the Keras adapter exactly as ``bench run`` trains
them (32 steps per call, the adapter's input pipeline), in alternating rounds, and the second
epoch's training seconds are compared:

* ``keras``: the registered model, Keras's ``Dropout(0.25)``: one Philox uniform float per
  activation, compared with the rate;
* ``byte masks``: the same layers with a dropout that draws one random byte per activation
  (four per 32-bit Philox word, reinterpreted with ``tf.bitcast``) and keeps it when the byte
  is at least ``256 * rate``: the same keep probability (exactly, for rate 0.25), a quarter of
  the random words;
* ``no dropout``: the rate set to 0, the floor for any dropout.

    MNIST_BENCH_MIRROR=/work/shared/data/mnist python scripts/article_dropout_cost.py \\
        [--images 9600] [--rounds 3]

Prints each round's seconds and validation accuracy per epoch, then the medians. Only for
measuring: the registered article_cnn keeps Keras's own ``Dropout`` (docs/speed.md says why).
"""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from bench.data import load_dataset  # noqa: E402
from bench.models.family import adapter_class, make_adapter  # noqa: E402
from bench.models.registry import get_model, register_model  # noqa: E402
from bench.run.trainer import seed_everything  # noqa: E402


class ByteMaskDropout(layers.Layer):
    """Dropout from one random byte per activation (TensorFlow backend only)."""

    def __init__(self, rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = rate
        self.threshold = int(round(rate * 256))
        self.seed_generator = keras.random.SeedGenerator()

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Zero each activation with probability ``threshold / 256``, scale the others."""
        if not training:
            return inputs
        seed = tf.cast(self.seed_generator.next(), tf.int64)
        words = tf.random.stateless_uniform(
            [tf.size(inputs) // 4], seed, minval=None, maxval=None, dtype=tf.int32, alg="philox"
        )
        random_bytes = tf.reshape(tf.bitcast(words, tf.uint8), tf.shape(inputs))
        keep = tf.cast(random_bytes >= self.threshold, inputs.dtype)
        return inputs * (keep * (1.0 / (1.0 - self.rate)))


def with_byte_masks(model: keras.Sequential) -> keras.Sequential:
    """The same layers (fresh weights), each ``Dropout`` replaced by a byte-mask dropout."""
    swapped = [
        ByteMaskDropout(layer.rate)
        if isinstance(layer, layers.Dropout)
        else layer.__class__.from_config(layer.get_config())
        for layer in model.layers
    ]
    return keras.Sequential([keras.Input(shape=model.input_shape[1:]), *swapped])


def register_byte_mask_variant() -> str:
    """Register article_cnn with byte-mask dropout as a model of its own; return its name."""
    spec = get_model("article_cnn")

    def article_cnn_byte_masks(config: dict[str, Any], input_shape: Any, classes: int) -> Any:
        """article_cnn with each Dropout replaced by a byte-mask dropout."""
        return with_byte_masks(spec.build(config, input_shape, classes))

    register_model(
        family="keras",
        preprocess=spec.preprocess,
        config=dict(spec.config),
        optimizer=spec.optimizer,
    )(article_cnn_byte_masks)
    return article_cnn_byte_masks.__name__


def epoch_seconds(model: str, dropout: float, data: tuple[Any, ...]) -> tuple[float, list]:
    """Train ``model`` for two epochs; the second epoch's training seconds and the
    validation accuracy after each epoch."""
    spec = get_model(model)
    x, y, x_val, y_val = data
    config = {**spec.config, "epochs": 2, "dropout": dropout}
    keras.backend.clear_session()
    seed_everything(0)
    adapter_class(spec).seed_framework(0, False)
    adapter = make_adapter(spec, config, tuple(x.shape[1:]), 10)
    fit = adapter.fit(x, y, x_val, y_val, None, 1)
    return fit.history[-1]["train_seconds"], [h["val_accuracy"] for h in fit.history]


def main() -> None:
    """Alternate the three variants for ``--rounds`` rounds; print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=9600, help="training images per epoch")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    args = parser.parse_args()
    spec, mnist = get_model("article_cnn"), load_dataset("mnist")
    data = (
        spec.preprocess(mnist.x_train[: args.images]),
        mnist.y_train[: args.images],
        spec.preprocess(mnist.x_train[55_000:]),
        mnist.y_train[55_000:],
    )
    variants = {
        "keras": ("article_cnn", 0.25),
        "byte masks": (register_byte_mask_variant(), 0.25),
        "no dropout": ("article_cnn", 0.0),
    }
    seconds: dict[str, list[float]] = {variant: [] for variant in variants}
    for round_index in range(args.rounds):
        for variant, times in seconds.items():
            spent, accuracy = epoch_seconds(*variants[variant], data)
            times.append(spent)
            print(f"round {round_index} {variant:11s} {spent:.2f} s, val acc {accuracy}")
    reference = statistics.median(seconds["keras"])
    for variant, times in seconds.items():
        median = statistics.median(times)
        print(f"{variant:11s} median {median:.2f} s per epoch, {reference / median:.2f}x keras")


if __name__ == "__main__":
    main()
