"""Benchmarks and the fuzz harness; a package so that `python -m benchmarks.fuzz` runs."""
