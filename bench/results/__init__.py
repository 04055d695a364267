"""Stage 'results': the typed run record and its store, statistics, aggregates and the report."""
