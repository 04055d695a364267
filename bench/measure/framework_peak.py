"""The matmul peak probe of :mod:`bench.measure.peak`, in PyTorch and in JAX.

A run's achieved GFLOP/s is set beside the peak of the library and device it trained with: a
PyTorch model on a GPU against that GPU's matmul, a Keras-on-JAX model against ``jax.numpy``'s.
The method is the TensorFlow probe's: two square matrices, warm, best of a few repeats
(another process can only slow a repeat down), cached per process, dtype and device.
"""

from __future__ import annotations

from typing import Any

from bench.measure.peak import PROBE_REPEATS, PROBE_SIZE, best_of, peak_summary

_CACHE: dict[tuple[str, str, str], dict[str, Any]] = {}


def torch_matmul_peak(
    dtype: str = "float32",
    device: str = "cpu",
    size: int = PROBE_SIZE,
    repeats: int = PROBE_REPEATS,
) -> dict[str, Any]:
    """GFLOP/s of ``torch.matmul`` on ``device`` (once per process, dtype and device)."""
    key = ("torch", dtype, device)
    if key not in _CACHE:
        import torch

        generator = torch.Generator().manual_seed(1)
        kind = getattr(torch, dtype)
        a = torch.rand((size, size), generator=generator).to(device=device, dtype=kind)
        b = torch.rand((size, size), generator=generator).to(device=device, dtype=kind)
        synchronize = torch.cuda.synchronize if a.is_cuda else (lambda: None)

        def run() -> None:
            torch.matmul(a, b)
            synchronize()

        with torch.inference_mode():
            best, median = best_of(run, repeats)
        _CACHE[key] = {
            **peak_summary(dtype, size, repeats, best, median, "torch.matmul"),
            "device": device,
        }
    return dict(_CACHE[key])


def jax_matmul_peak(
    dtype: str = "float32", size: int = PROBE_SIZE, repeats: int = PROBE_REPEATS
) -> dict[str, Any]:
    """GFLOP/s of a jitted ``jax.numpy.matmul`` on jax's default device (once per dtype)."""
    key = ("jax", dtype, "default")
    if key not in _CACHE:
        import jax
        import jax.numpy as jnp

        kind = getattr(jnp, dtype)
        a = jax.random.uniform(jax.random.PRNGKey(1), (size, size)).astype(kind)
        b = jax.random.uniform(jax.random.PRNGKey(2), (size, size)).astype(kind)
        matmul = jax.jit(jnp.matmul)
        best, median = best_of(lambda: matmul(a, b).block_until_ready(), repeats)
        _CACHE[key] = {
            **peak_summary(dtype, size, repeats, best, median, "jax.jit(jnp.matmul)"),
            "device": str(jax.devices()[0]),
        }
    return dict(_CACHE[key])
