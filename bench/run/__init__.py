"""Stage 'run': run specs, config resolution, the shared trainer, executors and resume."""
