"""Run records on disk: the typed record, reading and writing them, and stale checks."""
