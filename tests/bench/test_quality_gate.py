"""The benchmark script keeps working (its timings are not asserted)."""

from __future__ import annotations

import pytest

from bench import quality_gate


def test_the_quality_gate_benchmark_reports_throughput_and_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    quality_gate.main(["--rows", "2000", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "clean: median" in out and "(0 failing rows counted)" in out
    assert "(20 failing rows counted)" in out and "rows/s" in out
