"""The PyTorch adapter: the harness's own training loop around a builder's ``nn.Module``.

The model outputs logits; the registration's ``optimizer(config, parameters,
steps_per_epoch)`` returns a ``torch.optim.Optimizer`` or ``(optimizer, scheduler)`` (the
scheduler is stepped after every batch, as Keras steps a learning-rate schedule), and
``loss(config)`` returns ``loss_fn(logits, labels)`` on integer labels (default: cross-entropy).

The loop: the training images go to the device once; each epoch draws a fresh permutation
from a generator seeded by the run, and each batch is one index into the ready tensors (as the
Keras adapter gathers its batches). Loss and accuracy are summed on the device and read once
per epoch, so the loop never waits on the device except for the first step (timed, for
throughput without start-up) and the validation checks, which are kept off the training clock
by the same :class:`FitRecorder` the Keras adapter uses. Inference runs in eval mode under
``torch.inference_mode()``. ``torch.set_num_threads`` is left at PyTorch's default and
recorded. With ``precision="mixed_bfloat16"`` every forward pass (training, checks, inference)
runs under ``torch.autocast`` in bfloat16; weights, gradients and the optimizer stay float32.
With ``ema_decay`` above 0 the adapter keeps an exponential moving average of the weights
(``_torch_average``), updated after every step, and validates and predicts with it.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from typing import Any

import numpy as np
import torch

from bench.core.errors import BenchError
from bench.core.randomness import RunRandom
from bench.measure.flops import FlopCount
from bench.measure.torch_flops import count_torch_flops
from bench.models.families._recorder import VALIDATION_BATCH, FitRecorder, validation_scores
from bench.models.families._torch_average import WeightAverage
from bench.models.families._torch_files import export_torch_onnx, load_state, save_torch
from bench.models.family import EpochCallback, FitControl, FitResult
from bench.models.portable import OnnxExport, SavedFiles
from bench.models.spec import ModelSpec

INFERENCE_BATCH = 256


def resolve_device(name: str) -> torch.device:
    """The ``torch.device`` for a config's ``device``; a clear error for an absent GPU."""
    if name.startswith("cuda") and not torch.cuda.is_available():
        built = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise BenchError(
            f"device={name!r} was asked for, but PyTorch sees no CUDA GPU here (torch "
            f"{torch.__version__}, {built}); run with --set device=cpu"
        )
    return torch.device(name)


def device_description(device: torch.device) -> str:
    """The device in words: the GPU's name, or the CPU with PyTorch's thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


class TorchAdapter:
    """Adapter for a builder that returns a ``torch.nn.Module`` producing logits."""

    def __init__(
        self,
        spec: ModelSpec,
        config: dict[str, Any],
        input_shape: tuple[int, ...],
        num_classes: int,
        rng: RunRandom,
    ) -> None:
        self.spec = spec
        self.config = config
        self.num_classes = num_classes
        self.input_shape = tuple(input_shape)
        self.device = resolve_device(str(config.get("device", "cpu")))
        model = spec.build(config, self.input_shape, num_classes)
        if not isinstance(model, torch.nn.Module):
            raise TypeError(
                f"model {spec.name!r}: a torch builder must return a torch.nn.Module, "
                f"got {type(model).__name__}"
            )
        self.model = model.to(self.device)
        self.bfloat16 = config.get("precision", "float32") == "mixed_bfloat16"
        lazy = torch.nn.parameter.UninitializedParameter
        if any(isinstance(p, lazy) for p in model.parameters()):
            with torch.no_grad():  # lazy layers (nn.LazyLinear, ...) take their shapes here
                self.model(torch.zeros((1, *self.input_shape), device=self.device))
        decay = float(config.get("ema_decay", 0.0))
        self.average = WeightAverage(self.model, decay) if decay else None
        self._shuffle = rng.torch()  # the order of the batches: the run's own generator
        averaged = f", weights: their moving average (ema_decay {decay})" if decay else ""
        self.inference_method = (
            f"model.eval() under torch.inference_mode() on {self.device}"
            f"{', forward in bfloat16 (torch.autocast)' if self.bfloat16 else ''}{averaged}, "
            f"softmax of the logits, in batches of {INFERENCE_BATCH}; latency: the same call on "
            "one image (host-to-device copy and back included)"
        )

    @staticmethod
    def seed_framework(seed: int, deterministic: bool) -> None:
        """Seed PyTorch (CPU and every GPU); switch deterministic algorithms on or off."""
        torch.manual_seed(seed)
        if deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(deterministic)
        torch.backends.cudnn.benchmark = False

    @staticmethod
    def framework_versions() -> dict[str, str]:
        """The PyTorch version (and the CUDA version it was built for, if any)."""
        versions = {"torch": str(torch.__version__)}
        if torch.version.cuda:
            versions["torch_cuda"] = str(torch.version.cuda)
        return versions

    def runtime_info(self) -> dict[str, Any]:
        """The device the run used and PyTorch's thread settings."""
        return {
            "device": str(self.device),
            "device_name": device_description(self.device),
            "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads(),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        }

    def matmul_peak(self, dtype: str) -> dict[str, Any]:
        """The matmul peak of the run's device, measured with PyTorch."""
        from bench.measure.framework_peak import torch_matmul_peak

        return torch_matmul_peak(dtype, str(self.device))

    def _forward_precision(self) -> contextlib.AbstractContextManager[Any]:
        """``torch.autocast`` in bfloat16 for a mixed_bfloat16 model; otherwise nothing."""
        if not self.bfloat16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    # --- training ---------------------------------------------------------------------------

    def _optimizer(self, steps_per_epoch: int) -> tuple[Any, Any]:
        make = self.spec.optimizer
        assert make is not None  # the torch family requires it (register_model checks)
        made = make(self.config, self.model.parameters(), steps_per_epoch)
        optimizer, scheduler = made if isinstance(made, tuple) else (made, None)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"model {self.spec.name!r}: optimizer(config, parameters, steps_per_epoch) must "
                f"return a torch.optim.Optimizer or (optimizer, scheduler), got "
                f"{type(optimizer).__name__}"
            )
        return optimizer, scheduler

    def _tensor(self, x: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(x)).to(self.device, dtype)

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        on_epoch: EpochCallback | None = None,
        checks_per_epoch: int = 10,
        *,
        control: FitControl | None = None,
    ) -> FitResult:
        """Train for ``config['epochs']`` epochs of shuffled batches, checking ``(x_val, y_val)``
        several times per epoch off the training clock; stop after an epoch whose mean
        training loss is not finite, or where a ``control`` (tuning) stops it."""
        batch_size = int(self.config["batch_size"])
        epochs = int(self.config["epochs"])
        steps_per_epoch = math.ceil(len(x) / batch_size)
        optimizer, scheduler = self._optimizer(steps_per_epoch)
        loss_fn = self.spec.loss(self.config) if self.spec.loss else torch.nn.CrossEntropyLoss()
        start = time.perf_counter()
        recorder = FitRecorder(
            epochs,
            steps_per_epoch,
            lambda: self._validation_scores(x_val, y_val),
            on_epoch,
            batch_size,
            start,
            checks_per_epoch,
            control,
        )
        images, labels = self._tensor(x), self._tensor(y, torch.int64)
        recorder.training_began()
        for epoch in range(epochs):
            recorder.epoch_began(epoch)
            self.model.train()
            loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
            correct = torch.zeros((), device=self.device, dtype=torch.int64)
            order = torch.randperm(len(x), generator=self._shuffle).to(self.device)
            seen = 0
            for step in range(steps_per_epoch):
                index = order[step * batch_size : (step + 1) * batch_size]
                batch_x, batch_y = images[index], labels[index]
                optimizer.zero_grad(set_to_none=True)
                with self._forward_precision():
                    logits = self.model(batch_x)
                    loss = loss_fn(logits, batch_y)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                if self.average is not None:
                    self.average.update()
                with torch.no_grad():
                    loss_sum += loss.detach().double() * len(index)
                    correct += (logits.argmax(dim=1) == batch_y).sum()
                seen += len(index)
                if (epoch == 0 and step == 0) or recorder.due_check(step + 1):
                    self._synchronize()
                    recorder.steps_finished(step + 1)
                    self.model.train()
                    if recorder.stopped:
                        break
            self._synchronize()
            recorder.epoch_ended(epoch, float(loss_sum.item()) / seen, float(correct.item()) / seen)
            if recorder.failure or recorder.stopped:
                break
        fit_seconds = time.perf_counter() - start
        return recorder.result(fit_seconds)

    def _synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _validation_scores(self, x_val: np.ndarray, y_val: np.ndarray) -> tuple[float, float]:
        """Accuracy and cross-entropy on the validation images (as every family scores them)."""
        return validation_scores(self._probabilities(x_val, VALIDATION_BATCH), y_val)

    # --- inference --------------------------------------------------------------------------

    def _predictor(self) -> torch.nn.Module:
        """The model that validates and predicts, in eval mode: the weight average if the
        config asks for one (``ema_decay``), else the trained model."""
        model = self.average.model if self.average is not None else self.model
        if model.training:
            model.eval()
        return model

    def _probabilities(self, x: np.ndarray, batch: int) -> np.ndarray:
        model = self._predictor()
        outputs = []
        with torch.inference_mode(), self._forward_precision():
            for i in range(0, len(x), batch):
                logits = model(self._tensor(x[i : i + batch]))
                outputs.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
        return np.concatenate(outputs, axis=0)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (softmax of the logits), batch by batch, in eval mode."""
        return self._probabilities(x, INFERENCE_BATCH)

    def predict_one(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for a batch of one image through the same call."""
        model = self._predictor()
        with torch.inference_mode(), self._forward_precision():
            logits = model(self._tensor(x))
            return torch.softmax(logits.float(), dim=1).cpu().numpy()

    def parameter_count(self) -> int:
        """Parameters plus floating-point buffers (batch-norm running statistics), as Keras
        counts its non-trainable weights; integer counters are not weights."""
        parameters = sum(p.numel() for p in self.model.parameters())
        buffers = sum(b.numel() for b in self.model.buffers() if b.is_floating_point())
        return int(parameters + buffers)

    def flop_count(self) -> FlopCount:
        """FLOPs per sample of the forward pass (training: 3x); see
        :mod:`bench.measure.torch_flops`."""
        return count_torch_flops(self.model, self.input_shape, str(self.device))

    # --- keeping the model (--save-model; see :mod:`._torch_files`) -------------------------

    def save_model(self) -> SavedFiles:
        """The predicting weights' state_dict and their exported program (with softmax)."""
        sample = np.zeros((2, *self.input_shape), dtype=np.float32)
        return save_torch(self._predictor(), sample)

    def restore_model(self, files: dict[str, bytes]) -> None:
        """Load the saved state_dict into this adapter's model, which then predicts."""
        load_state(self.model, files)
        self.model.to(self.device)
        self.average = None

    def export_onnx(self, sample: np.ndarray) -> OnnxExport:
        """The predicting model with a softmax as ONNX (images in, probabilities out)."""
        return export_torch_onnx(self._predictor(), sample)
