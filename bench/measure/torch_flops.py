"""Floating-point operations per sample of a PyTorch module, by the Keras counter's convention.

The convention is :mod:`bench.measure.flops`'s: a multiply-add is 2 FLOPs, so a ``Linear``
layer costs ``2 * in * out`` per output position and a convolution
``2 * (output positions) * (weights per filter * filters)``; the bias adds one FLOP per output
value; batch normalisation is 2 FLOPs per value; activations, pooling, dropout and reshapes
count 0; training is 3x the forward pass. Output shapes come from one traced forward pass of a
blank sample through forward hooks, so the count follows what the module really computes
(a layer called twice is counted twice). A module that holds weights of its own but has no
rule (an embedding, a layer norm, a custom parameter) is listed as ``uncounted``.

Example
-------
>>> import torch
>>> count_torch_flops(torch.nn.Linear(784, 10), (784,)).forward  # 2 * 784 * 10 + 10
15690
"""

from __future__ import annotations

import math
from typing import Any

from bench.measure.flops import FlopCount


def _positions(shape: tuple[int, ...], channels_first: bool) -> int:
    """Output positions of one sample: all dimensions but batch and channels."""
    dims = shape[2:] if channels_first else shape[1:-1]
    return math.prod(dims) if dims else 1


def module_flops(module: Any, output_shape: tuple[int, ...]) -> int | None:
    """Forward FLOPs per sample of one leaf module given its output shape (batch first), or
    None when it has weights of its own but no counting rule."""
    import torch.nn as nn

    values = math.prod(output_shape[1:])
    if isinstance(module, nn.modules.conv._ConvNd):
        if module.transposed:
            return None
        total = 2 * _positions(output_shape, channels_first=True) * module.weight.numel()
        return total + (values if module.bias is not None else 0)
    if isinstance(module, nn.Linear):
        total = 2 * _positions(output_shape, channels_first=False) * module.weight.numel()
        return total + (values if module.bias is not None else 0)
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return 2 * values
    if not any(True for _ in module.parameters(recurse=False)):
        return 0
    return None


def count_torch_flops(module: Any, input_shape: tuple[int, ...], device: str = "cpu") -> FlopCount:
    """Count the forward FLOPs per sample of ``module`` on inputs of ``input_shape`` (one
    sample, no batch axis) by tracing one blank sample through it in eval mode."""
    import torch

    shapes: list[tuple[str, Any, tuple[int, ...]]] = []
    names = {id(m): name for name, m in module.named_modules()}
    leaves = [m for m in module.modules() if not any(True for _ in m.children())]

    def hook(layer: Any, _inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            shapes.append((names.get(id(layer), type(layer).__name__), layer, tuple(output.shape)))

    handles = [leaf.register_forward_hook(hook) for leaf in leaves]
    was_training = module.training
    try:
        module.eval()
        with torch.inference_mode():
            module(torch.zeros((1, *input_shape), device=device))
    finally:
        for handle in handles:
            handle.remove()
        module.train(was_training)
    per_layer: dict[str, int] = {}
    uncounted: list[str] = []
    for name, layer, shape in shapes:
        flops = module_flops(layer, shape)
        label = name or type(layer).__name__
        if flops is None:
            uncounted.append(f"{label} ({type(layer).__name__})")
        elif flops:
            per_layer[label] = per_layer.get(label, 0) + flops
    return FlopCount(
        forward=sum(per_layer.values()), per_layer=per_layer, uncounted=tuple(uncounted)
    )
