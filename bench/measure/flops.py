"""Floating-point operations per sample of a Keras model, counted layer by layer.

Convention (the usual one in papers and in MLPerf-style efficiency figures):

* a multiply-accumulate is 2 FLOPs, so a ``Dense`` layer with ``n_in`` inputs and ``n_out``
  outputs costs ``2 * n_in * n_out`` per output position, a convolution
  ``2 * (output positions) * (kernel size)``; the bias adds one FLOP per output value;
* ``BatchNormalization`` at inference is a scale and a shift: 2 FLOPs per value;
* activations, pooling, dropout, reshapes and other weightless layers count 0: they are
  memory-bound, a few percent of the arithmetic, and not what a matrix-multiply peak measures;
* training costs 3x the forward pass (forward, gradient with respect to the inputs, gradient
  with respect to the weights), as in the scaling-law and MLPerf literature.

A layer that has weights but no counting rule is listed in ``uncounted`` rather than silently
counted as 0.

Example
-------
>>> import keras
>>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
>>> count_flops(model).forward   # 2 * 784 * 10 multiply-adds + 10 bias adds
15690
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

TRAINING_MULTIPLIER = 3
# Layers whose output is a product of the inputs with one or more kernels, each kernel applied
# once per output position (kernel shape: (..spatial.., in_per_group, out) or (in, out)).
_KERNEL_ATTRIBUTES = ("kernel", "depthwise_kernel", "pointwise_kernel")
_NORMALIZATION = ("BatchNormalization",)


@dataclass(frozen=True)
class FlopCount:
    """FLOPs for one sample: forward total, training total (3x), and the count per layer."""

    forward: int
    per_layer: dict[str, int] = field(default_factory=dict)
    uncounted: tuple[str, ...] = ()

    @property
    def training(self) -> int:
        """FLOPs of one training step per sample: forward and backward (3x forward)."""
        return TRAINING_MULTIPLIER * self.forward

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for a run record."""
        return {
            "forward_per_sample": self.forward,
            "training_per_sample": self.training,
            "per_layer": dict(self.per_layer),
            "uncounted_layers": list(self.uncounted),
            "convention": "2 FLOPs per multiply-add, bias and batch-norm counted, "
            "activations/pooling not; training = 3 x forward",
        }


def _positions(shape: Any) -> int:
    """Number of output positions: the product of all dimensions but batch and channels."""
    dims = [int(d) for d in tuple(shape)[1:-1]]
    return math.prod(dims) if dims else 1


def _values(shape: Any) -> int:
    return math.prod(int(d) for d in tuple(shape)[1:])


def layer_flops(layer: Any) -> int | None:
    """Forward FLOPs per sample of one built layer, or None when there is no rule for it."""
    weights = layer.weights
    if not weights:
        return 0
    output_shape = layer.output.shape
    kernels = [getattr(layer, name) for name in _KERNEL_ATTRIBUTES if hasattr(layer, name)]
    kernels = [k for k in kernels if k is not None]
    if kernels and not type(layer).__name__.endswith("Transpose"):
        total = 0
        if hasattr(layer, "depthwise_kernel") and hasattr(layer, "pointwise_kernel"):
            # Separable: depthwise over the output positions, then a 1x1 pointwise product.
            total += 2 * _positions(output_shape) * math.prod(layer.depthwise_kernel.shape)
            total += 2 * _positions(output_shape) * math.prod(layer.pointwise_kernel.shape)
        else:
            total += 2 * _positions(output_shape) * math.prod(kernels[0].shape)
        if getattr(layer, "bias", None) is not None:
            total += _values(output_shape)
        return total
    if type(layer).__name__ in _NORMALIZATION:
        return 2 * _values(output_shape)
    return None


def _leaf_layers(model: Any) -> list[Any]:
    leaves = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            leaves.extend(_leaf_layers(layer))
        else:
            leaves.append(layer)
    return leaves


def count_flops(model: Any) -> FlopCount:
    """Count the forward FLOPs per sample of a built ``keras.Model`` (see the module notes).

    Raises ``ValueError`` if the model has not been built (its layers have no output shapes).
    """
    per_layer: dict[str, int] = {}
    uncounted: list[str] = []
    for layer in _leaf_layers(model):
        try:
            flops = layer_flops(layer)
        except (AttributeError, ValueError) as error:
            raise ValueError(
                f"cannot count FLOPs of layer {layer.name!r}: the model is not built "
                "(give it a keras.Input or call it on data first)"
            ) from error
        if flops is None:
            uncounted.append(f"{layer.name} ({type(layer).__name__})")
            continue
        per_layer[layer.name] = flops
    return FlopCount(
        forward=sum(per_layer.values()), per_layer=per_layer, uncounted=tuple(uncounted)
    )


def efficiency(
    flops: FlopCount,
    train_samples_per_s: float | None,
    inference_samples_per_s: float | None,
    peak_gflops: float | None,
) -> dict[str, float | None]:
    """Achieved GFLOP/s of training and inference and their share of the matmul peak (%).

    Any figure whose inputs are missing is None.
    """

    def gflops(per_sample: int, samples_per_s: float | None) -> float | None:
        return None if samples_per_s is None else per_sample * samples_per_s / 1e9

    def percent(value: float | None) -> float | None:
        return None if value is None or not peak_gflops else 100.0 * value / peak_gflops

    train = gflops(flops.training, train_samples_per_s)
    inference = gflops(flops.forward, inference_samples_per_s)
    return {
        "peak_gflops": peak_gflops,
        "train_gflops": train,
        "train_percent_of_peak": percent(train),
        "inference_gflops": inference,
        "inference_percent_of_peak": percent(inference),
    }
