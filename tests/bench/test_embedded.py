"""The embedded default's benchmark keeps working (its timings are not asserted)."""

from __future__ import annotations

import pytest

from bench import embedded


def test_the_embedded_benchmark_reports_loads_against_raw_executemany(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = embedded.main(["--rows", "1000", "--small", "100"])
    assert [r.unit for r in rows] == ["s", "s", "s"]
    assert all(r.baseline and r.baseline > 0 for r in rows)
    assert rows[1].target == "< 30 s"
    assert "1,000-row update of a 1,000-row table" in capsys.readouterr().out
