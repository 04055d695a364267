"""Training images/s of a PyTorch CNN's steps: weight layout, Adam's kernels and precision.

Three variants of the same registered network (``torch_fast`` unless ``--model``) train on
random batches of MNIST's training images, in short alternating blocks so that the drift of a
shared machine's speed falls on all of them; each block's images/s is divided by the first
variant's in the same round:

* channels first (PyTorch's default layout) with the default (for-each) Adam;
* as registered: weights channels last, fused Adam;
* as registered, forward passes in bfloat16 under ``torch.autocast`` (preset ``bf16``).

    MNIST_BENCH_MIRROR=/work/shared/data/mnist python scripts/torch_step_speed.py \\
        [--model torch_cnn] [--rounds 12]

Prints the median images/s of each variant and its median ratio to the first (with the range
over rounds). Only the training step is timed: no schedule, no validation.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from bench.data import load_dataset
from bench.models.registry import get_model

WARMUP_STEPS = 20
IMAGES_PER_BLOCK = 12_800


def make_step(model_name: str, variant: str, images: torch.Tensor, labels: torch.Tensor) -> Any:
    """A function running one training step of ``variant`` on a random batch."""
    spec = get_model(model_name)
    config = dict(spec.config)
    model = spec.build(config, tuple(images.shape[1:]), 10)
    if variant == "channels first, for-each Adam":
        model = model.to(memory_format=torch.contiguous_format)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, foreach=True)
    else:
        made = spec.optimizer(config, model.parameters(), 1000)
        optimizer = made[0] if isinstance(made, tuple) else made
    loss_fn = spec.loss(config)
    batch = int(config["batch_size"])
    bfloat16 = variant.endswith("bfloat16 forward")

    def step() -> None:
        index = torch.randint(0, len(images), (batch,))
        optimizer.zero_grad(set_to_none=True)
        precision: Any = (
            torch.autocast("cpu", dtype=torch.bfloat16) if bfloat16 else contextlib.nullcontext()
        )
        with precision:
            loss = loss_fn(model(images[index]), labels[index])
        loss.backward()
        optimizer.step()

    return step, batch


def images_per_second(step: Callable[[], None], batch: int) -> float:
    """Images/s over one block of steps."""
    steps = IMAGES_PER_BLOCK // batch
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    """Alternate the variants for ``--rounds`` rounds; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="torch_fast", help="a torch model (default torch_fast)")
    parser.add_argument("--rounds", type=int, default=12, help="alternating rounds (default 12)")
    args = parser.parse_args()
    data = load_dataset("mnist")
    images = torch.as_tensor((data.x_train.astype(np.float32) / 255.0)[:, None])
    labels = torch.as_tensor(data.y_train.astype(np.int64))
    variants = [
        "channels first, for-each Adam",
        "channels last, fused Adam",
        "channels last, fused Adam, bfloat16 forward",
    ]
    steps = {name: make_step(args.model, name, images, labels) for name in variants}
    for step, _ in steps.values():
        for _ in range(WARMUP_STEPS):
            step()
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (step, batch) in steps.items():
            rates[name].append(images_per_second(step, batch))
    print(f"{args.model}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    for name in variants:
        ratios = [a / b for a, b in zip(rates[name], rates[variants[0]], strict=True)]
        print(
            f"{name}: {statistics.median(rates[name]):,.0f} images/s, "
            f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
        )


if __name__ == "__main__":
    main()
