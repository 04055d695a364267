"""An exponential moving average of a PyTorch model's weights, for the ``ema_decay`` key.

After every optimizer step the average moves towards the live weights:
``average += (1 - d) * (live - average)``, with ``d = min(decay, (1 + n) / (10 + n))`` after
``n`` updates, so the early average is not dominated by the random initial weights. Floating
buffers (batch-norm running statistics) are averaged the same way, so the averaged copy's
normalization matches its weights; integer buffers (counters) are copied. The harness
validates, predicts and measures the averaged copy; the live model keeps training.

Written here rather than taken from ``torch.optim.swa_utils.AveragedModel``, which re-groups
every tensor by device and dtype on each update: with the tensor lists fixed once, an update
is one fused ``torch._foreach_lerp_`` call.
"""

from __future__ import annotations

import copy

import torch


class WeightAverage:
    """The averaged copy of ``model`` (:attr:`model`, in eval mode), updated by :meth:`update`."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        live = list(model.parameters()) + list(model.buffers())
        averaged = list(self.model.parameters()) + list(self.model.buffers())
        pairs = list(zip(averaged, live, strict=True))
        self._averaged = [a for a, _ in pairs if a.is_floating_point()]
        self._live = [b for a, b in pairs if a.is_floating_point()]
        self._counters = [(a, b) for a, b in pairs if not a.is_floating_point()]

    def update(self) -> None:
        """Move the average towards the live weights (after an optimizer step)."""
        rate = 1.0 - min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            torch._foreach_lerp_(self._averaged, self._live, rate)
            for counter, current in self._counters:
                counter.copy_(current)
        self.updates += 1
