"""The PyTorch family: builders return a ``torch.nn.Module`` that outputs logits; the spec
declares ``optimizer(config, parameters, steps_per_epoch)`` (and optionally ``loss(config)``).
The harness runs the training loop (:mod:`._torch`, which imports PyTorch only when a model of
this family is built). Every model of the family has a ``device`` config key, ``cpu`` unless
set (``--set device=cuda`` trains on the GPU where PyTorch sees one), and a ``precision``
key, ``float32`` unless set (``--set precision=mixed_bfloat16`` runs the forward passes in
bfloat16, worth it only where the CPU has bfloat16 units: AVX512-BF16 or AMX), and an
``ema_decay`` key, 0 unless set (``--set ema_decay=0.9`` validates and predicts with an
exponential moving average of the weights, updated after every step)."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from bench.models.family import AdapterClass, register_family
from bench.models.params import POSITIVE_COUNT, Param

if TYPE_CHECKING:
    from bench.core.spec import RunSpec
    from bench.models.spec import ModelSpec

DEVICES = ("cpu", "cuda")
# "mixed_bfloat16": forward passes under ``torch.autocast`` in bfloat16, weights and optimizer
# in float32 (the name Keras gives the same policy, so records and the bfloat16 peak probe
# treat both families alike).
PRECISIONS = ("float32", "mixed_bfloat16")
INSTALL_HINT = (
    "pip install 'mnist-bench[torch]' (the README says how to get the CPU-only wheel without "
    "the CUDA libraries)"
)


def torch_preflight(spec: ModelSpec, run: RunSpec) -> list[str]:
    """PyTorch missing, or a GPU asked for where PyTorch sees none (imports torch only then)."""
    if importlib.util.find_spec("torch") is None:
        return [f"PyTorch is not installed: {INSTALL_HINT}"]
    if str(run.config.get("device", "cpu")).startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            built = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU only"
            return [
                f"device=cuda, but PyTorch sees no CUDA GPU on this machine (torch "
                f"{torch.__version__}, {built}); use --set device=cpu"
            ]
    return []


@register_family(
    "torch",
    requires=("optimizer",),
    config_rules={
        "epochs": POSITIVE_COUNT,
        "batch_size": POSITIVE_COUNT,
        "device": Param("cpu", choices=DEVICES),
        "precision": Param("float32", choices=PRECISIONS),
        "ema_decay": Param(0.0, minimum=0.0, maximum=0.9999),
    },
    defaults={"device": "cpu", "precision": "float32", "ema_decay": 0.0},
    preflight=torch_preflight,
    framework="torch",
)
def torch_family() -> AdapterClass:
    """PyTorch modules, trained by the harness's loop."""
    from bench.models.families._torch import TorchAdapter

    return TorchAdapter
