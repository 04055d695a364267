"""Executors: take a list of run specs and write one record per run."""
