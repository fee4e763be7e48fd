"""The catalogue benchmark keeps working at toy sizes (its timings are not asserted)."""

from __future__ import annotations

import pytest

from bench import catalogue

pytestmark = pytest.mark.slow


def test_the_catalogue_benchmark_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    catalogue.main(["--resources", "12", "--departments", "4", "--requests", "3", "--pushes", "2"])
    out = capsys.readouterr().out
    for label in (
        "publish a new resource (tables created)",
        "publish an additive version (column added)",
        "reads during the changes: p99 extra",
        "worker RSS holding 1",
        "push 1,000 rows into r00012",
    ):
        assert label in out
