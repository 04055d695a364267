"""Records as tables (CSV, Parquet, JSON) and the diff of two result sets."""
