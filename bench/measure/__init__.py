"""Stage 'measure': metrics, calibration, timing, FLOPs, the matmul peak and the environment."""
