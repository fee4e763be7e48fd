"""The portal benchmark keeps working at toy sizes (its timings are not asserted)."""

from __future__ import annotations

import pytest

from bench import portal

pytestmark = pytest.mark.slow


def test_the_portal_benchmark_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    portal.main(["--datasets", "40", "--rows", "3000", "--requests", "3"])
    out = capsys.readouterr().out
    for label in ("search page (HTML, facets)", "dataset page, 10M-row table", "first preview"):
        assert label in out
    assert "CSV download: 3,000 rows" in out and "pyarrow write_csv" in out
