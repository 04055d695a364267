"""Native PyTorch CNNs trained by the harness's own loop: ``torch_cnn`` and ``torch_fast``.

``torch_cnn`` is a twin of ``cnn_fast``: the same layers and sizes (284,650 parameters on
28x28 images): Conv 6x6/32 with stride 2 -> max-pool 2x2 -> ReLU -> Conv 3x3/64 + ReLU ->
Linear 256 + ReLU -> Linear 10 (logits; the harness applies the softmax). Pooling before the
ReLU computes cnn_fast's function to the bit (the two commute), with the ReLU on a quarter of
the values. Same recipe: one epoch of Adam on a one-cycle schedule (linear warm-up from a
tenth of the peak over the first 20% of the steps, then a cosine to zero, stepped every
batch), label smoothing 0.1, batch 128.
Made to match Keras where PyTorch's defaults differ: Glorot-uniform weights and zero biases
(PyTorch's layers start from a scaled Kaiming-uniform), Adam's epsilon 1e-7 (PyTorch: 1e-8),
and Keras's "same" padding for small images (the 8x8 digits), which PyTorch's strided
convolutions do not offer. What differs: PyTorch's flattened features come in channels-first
order (the same function class), and ``steps_per_execution`` has no meaning in an eager loop.

``torch_fast`` is the same network with a batch normalization after the first max pooling
and after the second convolution, and a warm-up over the first 10% of the steps: the recipe
that reached 99% validation accuracy earliest in the search of ``scripts/search_cnn_fast.py``
(stages 4-11, validation split only; docs/speed.md). It is the project's fastest CNN to 99% on
a CPU: PyTorch builds no graph, so its first step costs 0.01 s where Keras's first compiled
call costs 1.0-1.7 s.

Preset ``torch_fast:bf16`` runs its forward passes in bfloat16 (``torch.autocast``; weights
and Adam stay float32): about 1.27x the training images/s on a CPU with AVX512-BF16, but its
seeds reached 99% validation accuracy later in the epoch, so it is no sooner to 99%; on a CPU
without bfloat16 units it is slower, not faster.

Both lay their weights out channels last and use PyTorch's fused Adam (same arithmetic, fewer
kernels): together 1.1-1.2x the training images/s of the default layout and Adam for
torch_cnn, 1.2-1.4x for torch_fast, on a 2-core AMD EPYC (docs/speed.md).

How a PyTorch model plugs in (the contract, in short):

* ``family="torch"``; the builder returns an ``nn.Module`` mapping ``(N, *input_shape)`` to
  logits ``(N, num_classes)``; ``input_shape`` is what ``preprocess`` produces per sample;
* ``optimizer(config, parameters, steps_per_epoch)`` returns an optimizer, or
  ``(optimizer, scheduler)`` with a scheduler the harness steps after every batch;
* ``loss(config)`` (optional) returns ``loss_fn(logits, integer_labels)``;
* ``config`` holds ``epochs`` and ``batch_size``; ``device`` (``cpu`` or ``cuda``) is added
  for every torch model. Import ``torch`` inside the functions, never at module level.
"""

from __future__ import annotations

import math
from typing import Any

from bench.models.preprocess import images_channel_first
from bench.models.registry import get_model, register_model


def one_cycle_adam(config: dict[str, Any], parameters: Any, steps_per_epoch: int) -> Any:
    """Adam with Keras's epsilon on a per-batch one-cycle schedule (``cnn_fast``'s).

    PyTorch's fused Adam: the same update as the default one, in one kernel for every tensor
    instead of a handful of small ones per tensor."""
    import torch

    total = max(1, steps_per_epoch * int(config["epochs"]))
    warmup = max(1, int(config["warmup_fraction"] * total))
    optimizer = torch.optim.Adam(
        parameters, lr=float(config["learning_rate"]), eps=1e-7, fused=True
    )

    def factor(step: int) -> float:
        """Learning rate / peak at ``step`` (0-based), as Keras's CosineDecay with warm-up."""
        if step < warmup:
            return 0.1 + 0.9 * step / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def smoothed_crossentropy(config: dict[str, Any]) -> Any:
    """Cross-entropy on integer labels with the configured label smoothing."""
    import torch

    return torch.nn.CrossEntropyLoss(label_smoothing=float(config["label_smoothing"]))


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Keras's "same" padding of one axis: (before, after), the odd pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_net(
    config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int, batch_norm: bool
) -> Any:
    """The strided 6x6 conv, 3x3 conv and dense network of ``cnn_fast`` in PyTorch, with a
    batch normalization in each convolution's block when ``batch_norm`` (the convolutions'
    biases are then left out: the normalization's shift takes their place).

    With ``config["pool_first"]`` the first block max-pools the convolution's output before
    its normalization and ReLU, so these touch a quarter of the values. Without
    normalization that is the same function, to the bit (ReLU and max pooling commute), only
    cheaper; with it, the normalization's statistics are those of the pooled values.
    Glorot-uniform weights, zero biases, weights laid out channels last (NHWC), which
    oneDNN's CPU convolutions and max pooling run faster on (same values; ``nn.Flatten``
    still reads channels first)."""
    import torch
    from torch import nn

    channels, height, width = input_shape
    filters = int(config["filters"])
    small = min(height, width) < 24  # as cnn_fast: "same" padding keeps small images' size
    layers: list[nn.Module] = []
    if small:
        (top, bottom), (left, right) = same_padding(height, 6, 2), same_padding(width, 6, 2)
        layers.append(nn.ZeroPad2d((left, right, top, bottom)))
    layers.append(nn.Conv2d(channels, filters, 6, stride=2, bias=not batch_norm))
    activation = [nn.BatchNorm2d(filters), nn.ReLU()] if batch_norm else [nn.ReLU()]
    if config["pool_first"]:
        layers += [nn.MaxPool2d(2), *activation]
    else:
        layers += [*activation, nn.MaxPool2d(2)]
    layers.append(
        nn.Conv2d(filters, 2 * filters, 3, padding="same" if small else 0, bias=not batch_norm)
    )
    if batch_norm:
        layers.append(nn.BatchNorm2d(2 * filters))
    layers += [nn.ReLU(), nn.Flatten()]
    features = nn.Sequential(*layers)
    with torch.no_grad():
        flat = features.eval()(torch.zeros(1, *input_shape)).shape[1]
    model = nn.Sequential(
        features,
        nn.Linear(flat, int(config["dense_units"])),
        nn.ReLU(),
        nn.Linear(int(config["dense_units"]), num_classes),
    )
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model.train().to(memory_format=torch.channels_last)


# cnn_fast's recipe and sizes, read from its registration so that the twin cannot drift from
# it (pooling comes first in both; PyTorch says so in its config); torch_fast changes only its
# warm-up.
TWIN_KEYS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "warmup_fraction",
    "label_smoothing",
    "filters",
    "dense_units",
)
TWIN_CONFIG: dict[str, Any] = {
    **{key: get_model("cnn_fast").config[key] for key in TWIN_KEYS},
    "pool_first": True,
}
TWIN_SPACE = dict(get_model("cnn_fast").space)
"""What ``bench tune`` searches for both PyTorch twins: cnn_fast's space, read, not retyped."""


@register_model(
    family="torch",
    preprocess=images_channel_first,
    config=TWIN_CONFIG,
    optimizer=one_cycle_adam,
    loss=smoothed_crossentropy,
    tuning="cnn_fast's recipe, unchanged: its learning rate, warm-up, smoothing and batch "
    "size were set by hand against the test set (docs/protocol.md); torch_cnn:tuned is the "
    "fair entry",
    space=TWIN_SPACE,
)
def torch_cnn(config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Any:
    """cnn_fast's twin in native PyTorch: strided 6x6 conv, 3x3 conv, dense; one-cycle Adam."""
    return conv_net(config, input_shape, num_classes, batch_norm=False)


@register_model(
    family="torch",
    preprocess=images_channel_first,
    config={**TWIN_CONFIG, "warmup_fraction": 0.1},
    optimizer=one_cycle_adam,
    loss=smoothed_crossentropy,
    presets={"bf16": {"precision": "mixed_bfloat16"}},
    tuning=(
        "cnn_fast's recipe (learning rate, smoothing and batch size set by hand against the "
        "test set, docs/protocol.md) plus batch normalization, then 12 configurations searched "
        "for time to 99% "
        "on the validation split, 5 seeds each (scripts/search_cnn_fast.py, stages 4-5): "
        "warm-up 10% of the steps instead of 20% kept (every seed reached 99%, the earliest "
        "at a median 0.8 of the epoch); learning rate, batch, smoothing and width unchanged. "
        "Later stages (7-9): a moving average of the weights, bfloat16 and batches of 64 or "
        "96 were no sooner; pooling before the first normalization kept (10 of 10 seeds at "
        "99%, a median 0.8 of the epoch as before, 1.07-1.11x the images/s)"
    ),
    space=TWIN_SPACE,
)
def torch_fast(config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Any:
    """torch_cnn with batch normalization in both convolution blocks, tuned for time to 99%."""
    return conv_net(config, input_shape, num_classes, batch_norm=True)
