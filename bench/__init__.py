"""mnist-bench: a benchmark and architecture-comparison harness for MNIST-style classification."""

__version__ = "0.1.0"
