"""Statistics over records: intervals, tests and pairwise verdicts."""
