"""Stage 'models': the model registry, input transforms, and one adapter per model family."""
