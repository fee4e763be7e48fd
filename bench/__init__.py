"""Benchmarks: `python -m bench.<name>` runs one; none assert on timings."""
