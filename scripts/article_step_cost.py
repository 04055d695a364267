"""Where article_cnn's training step goes (Keras on TensorFlow, batch 32, the tutorial's math).

Five ways of training article_cnn, in alternating rounds; the seconds of every epoch after the
first are compared with the bare ``model.fit`` (target 2a's peer):

* ``bare fit``: ``model.fit`` on NumPy arrays, one step per call (the peer);
* ``keras``: the registered model through the Keras adapter exactly as ``bench run`` trains it
  (32 steps per call, the adapter's input pipeline);
* ``own loop``: the same model, optimizer, loss and batches in a hand-written compiled loop
  (``tf.while_loop`` over 30 steps per call; no ``fit``, callbacks or metrics): what any
  harness could save around the steps;
* ``byte masks``: the adapter with a dropout that draws one random byte per activation (four
  per 32-bit Philox word, reinterpreted with ``tf.bitcast``) and keeps it when the byte is at
  least ``256 * rate``: the same keep probability (exactly, for rate 0.25), a quarter of the
  random words of Keras's ``Dropout`` (one Philox float per activation);
* ``no dropout``: the adapter with the rate set to 0, the floor for any dropout.

With ``--kernels`` it first times the step's heavy kernels alone at batch 32 (convolutions and
the first dense layer, forward and both gradients) against the matmul peak.

    MNIST_BENCH_MIRROR=/work/shared/data/mnist python scripts/article_step_cost.py \\
        [--images 9600] [--epochs 2] [--rounds 3] [--ways "bare fit,keras"] [--kernels]

``--images 54000 --epochs 9 --ways "bare fit,keras"`` compares the tutorial's whole training
(the first epoch left out). Prints each round's seconds per steady epoch, then the medians of
the rounds' means and their ratio to the bare fit. Only for measuring: the registered
article_cnn keeps Keras's own ``Dropout`` (docs/speed.md says why).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from bench.core.tfquiet import import_tensorflow

tf = import_tensorflow()  # without TensorFlow's start-up lines

import keras  # noqa: E402
from keras import layers  # noqa: E402

from bench.data import load_dataset  # noqa: E402
from bench.models.family import adapter_class, make_adapter  # noqa: E402
from bench.models.registry import get_model, register_model  # noqa: E402

BATCH = 32  # the tutorial's
LOOP_STEPS = 30  # steps per call of the own loop (9,600 images: 10 calls an epoch)
WAYS = ("bare fit", "keras", "own loop", "byte masks", "no dropout")


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


Data = tuple[Any, Any, Any, Any]


def adapter_seconds(model: str, dropout: float, data: Data, epochs: int) -> list[float]:
    """Train ``model`` through the Keras adapter; the training seconds (validation checks
    excluded) of each epoch after the first."""
    spec = get_model(model)
    x, y, x_val, y_val = data
    config = {**spec.config, "epochs": epochs, "dropout": dropout}
    keras.backend.clear_session()
    adapter_class(spec).seed_framework(0, False)
    adapter = make_adapter(spec, config, tuple(x.shape[1:]), 10)
    fit = adapter.fit(x, y, x_val, y_val, None, 1)
    return [float(entry.train_seconds) for entry in fit.history[1:]]


def fresh_article(x: Any, epochs: int) -> tuple[Any, dict[str, Any], Any]:
    """article_cnn built from scratch (seed 0) with its config for ``epochs`` and optimizer."""
    spec = get_model("article_cnn")
    config = {**spec.config, "epochs": epochs}
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = spec.build(config, tuple(x.shape[1:]), 10)
    return model, config, spec.optimizer(config, len(x) // BATCH)


class EpochClock(keras.callbacks.Callback):
    """Notes when each epoch of ``fit`` ended."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.marks = [time.perf_counter()]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.marks.append(time.perf_counter())


def bare_fit_seconds(data: Data, epochs: int) -> list[float]:
    """The peer: a bare ``model.fit`` on NumPy arrays; the seconds of each epoch after the
    first."""
    x, y = data[0], data[1]
    model, _, optimizer = fresh_article(x, epochs)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    clock = EpochClock()
    labels = keras.utils.to_categorical(y, 10)
    model.fit(x, labels, batch_size=BATCH, epochs=epochs, callbacks=[clock], verbose=0)
    return [end - begin for begin, end in pairwise(clock.marks[1:])]


def own_loop_seconds(data: Data, epochs: int) -> list[float]:
    """The same steps in a hand-written compiled loop, ``LOOP_STEPS`` per call; the seconds
    of each epoch after the first."""
    x, y = data[0], data[1]
    model, _, optimizer = fresh_article(x, epochs)
    loss_fn = keras.losses.CategoricalCrossentropy()
    images, labels = tf.constant(x), tf.one_hot(tf.constant(y.astype("int32")), 10)
    weights = model.trainable_variables
    optimizer.build(weights)

    @tf.function
    def run(order: Any) -> Any:
        def step(i: Any, total: Any) -> tuple[Any, Any]:
            index = order[i * BATCH : (i + 1) * BATCH]
            with tf.GradientTape() as tape:
                loss = loss_fn(
                    tf.gather(labels, index), model(tf.gather(images, index), training=True)
                )
            optimizer.apply(tape.gradient(loss, weights), weights)
            return i + 1, total + loss

        steps = tf.shape(order)[0] // BATCH
        return tf.while_loop(lambda i, _: i < steps, step, (tf.constant(0), 0.0))[1]

    steps_per_epoch = len(x) // BATCH
    seconds = []
    for _ in range(epochs):
        order = tf.random.shuffle(tf.range(len(x)))
        began = time.perf_counter()
        for first in range(0, steps_per_epoch, LOOP_STEPS):
            run(order[first * BATCH : (first + LOOP_STEPS) * BATCH]).numpy()
        seconds.append(time.perf_counter() - began)
    return seconds[1:]


def kernel_table(batch: int = BATCH) -> None:
    """Time the step's heavy kernels alone (best of three loops) against the matmul peak."""
    from bench.measure.peak import matmul_peak

    peak = matmul_peak()["gflops"]
    normal = tf.random.normal
    x1, w1, g1 = normal([batch, 28, 28, 1]), normal([3, 3, 1, 64]), normal([batch, 26, 26, 64])
    x2, w2, g2 = normal([batch, 13, 13, 64]), normal([3, 3, 64, 32]), normal([batch, 11, 11, 32])
    a, w, g = normal([batch, 800]), normal([800, 512]), normal([batch, 512])
    conv = tf.raw_ops
    one = [1, 1, 1, 1]
    kernels = {
        "conv 1 forward (1 input channel)": (
            lambda: tf.nn.conv2d(x1, w1, 1, "VALID"),
            2 * batch * 26 * 26 * 64 * 9,
        ),
        "conv 1 filter gradient": (
            lambda: conv.Conv2DBackpropFilter(
                input=x1, filter_sizes=[3, 3, 1, 64], out_backprop=g1, strides=one, padding="VALID"
            ),
            2 * batch * 26 * 26 * 64 * 9,
        ),
        "conv 2 forward": (
            lambda: tf.nn.conv2d(x2, w2, 1, "VALID"),
            2 * batch * 11 * 11 * 32 * 576,
        ),
        "conv 2 input gradient": (
            lambda: conv.Conv2DBackpropInput(
                input_sizes=[batch, 13, 13, 64],
                filter=w2,
                out_backprop=g2,
                strides=one,
                padding="VALID",
            ),
            2 * batch * 11 * 11 * 32 * 576,
        ),
        "conv 2 filter gradient": (
            lambda: conv.Conv2DBackpropFilter(
                input=x2,
                filter_sizes=[3, 3, 64, 32],
                out_backprop=g2,
                strides=one,
                padding="VALID",
            ),
            2 * batch * 11 * 11 * 32 * 576,
        ),
        "dense 512 forward": (lambda: tf.matmul(a, w), 2 * batch * 800 * 512),
        "dense 512 input gradient": (
            lambda: tf.matmul(g, w, transpose_b=True),
            2 * batch * 800 * 512,
        ),
        "dense 512 weight gradient": (
            lambda: tf.matmul(a, g, transpose_a=True),
            2 * batch * 800 * 512,
        ),
    }
    total = 0.0
    print(f"matmul peak {peak:.0f} GFLOP/s; kernels at batch {batch}:")
    for name, (kernel, flops) in kernels.items():
        seconds = kernel_seconds(kernel)
        total += seconds
        rate = flops / seconds / 1e9
        print(f"  {name:34s} {seconds * 1e6:7.0f} us  {rate:6.1f} GFLOP/s  {rate / peak:4.0%}")
    print(f"  {'sum':34s} {total * 1e6:7.0f} us per step")


def kernel_seconds(kernel: Any, calls: int = 300) -> float:
    """Seconds per call of ``kernel`` inside a compiled loop (best of three loops)."""

    @tf.function
    def loop() -> Any:
        total = tf.constant(0.0)
        for _ in tf.range(calls):
            total += tf.reduce_sum(kernel())
        return total

    loop()
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        loop().numpy()
        best = min(best, time.perf_counter() - began)
    return best / calls


def main() -> None:
    """Alternate the five ways for ``--rounds`` rounds; print the medians against the peer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=9600, help="training images per epoch")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per fit (the first untimed)")
    parser.add_argument(
        "--ways",
        default=",".join(WAYS),
        help=f"which ways, comma-separated (of: {', '.join(WAYS)})",
    )
    parser.add_argument("--kernels", action="store_true", help="time the heavy kernels first")
    args = parser.parse_args()
    chosen = args.ways.split(",")
    unknown = sorted(set(chosen) - set(WAYS))
    if unknown or "bare fit" not in chosen or args.epochs < 2:
        parser.error(
            f"--ways must name 'bare fit' and only ways of {', '.join(WAYS)} (unknown: "
            f"{', '.join(unknown) or 'none'}); --epochs must be at least 2"
        )
    if args.kernels:
        kernel_table()
    spec, mnist = get_model("article_cnn"), load_dataset("mnist")
    data = (
        spec.preprocess(mnist.x_train[: args.images]),
        mnist.y_train[: args.images],
        spec.preprocess(mnist.x_train[55_000:]),
        mnist.y_train[55_000:],
    )
    byte_masks = register_byte_mask_variant()
    epochs = args.epochs
    ways: dict[str, Callable[[], list[float]]] = {
        "bare fit": lambda: bare_fit_seconds(data, epochs),
        "keras": lambda: adapter_seconds("article_cnn", 0.25, data, epochs),
        "own loop": lambda: own_loop_seconds(data, epochs),
        "byte masks": lambda: adapter_seconds(byte_masks, 0.25, data, epochs),
        "no dropout": lambda: adapter_seconds("article_cnn", 0.0, data, epochs),
    }
    seconds: dict[str, list[float]] = {way: [] for way in WAYS if way in chosen}
    for round_index in range(args.rounds):
        for way, times in seconds.items():
            steady = ways[way]()
            times.append(statistics.mean(steady))
            shown = ", ".join(f"{t:.2f}" for t in steady)
            print(f"round {round_index} {way:10s} {shown} s per steady epoch", flush=True)
    peer = statistics.median(seconds["bare fit"])
    for way, times in seconds.items():
        median = statistics.median(times)
        print(f"{way:10s} median {median:.2f} s per epoch, {peer / median:.2f}x the bare fit")


if __name__ == "__main__":
    main()
