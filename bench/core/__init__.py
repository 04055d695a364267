"""The bottom layer: run specs and labels, the backend default, registries, errors and safe
file helpers. It imports nothing from the stages above it."""
