"""Benchmarks: `python -m bench.<name>` prints throughput; no thresholds, nothing asserted."""
