"""The sharing benchmark keeps working end to end (its timings are not asserted)."""

from __future__ import annotations

import pytest

from bench import sharing


@pytest.mark.slow
def test_the_sharing_benchmark_compares_both_servers_and_audits_every_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sharing.main(
        ["--rows", "2000", "--clients", "4", "--seconds", "1", "--warmup", "0.5", "--rounds", "1"]
    )
    out = capsys.readouterr().out
    assert "bare FastAPI + psycopg (same SELECT)" in out
    assert "sharing API: token, grant, quota, mask, audit" in out
    table = {line.split("  ")[0]: line.split() for line in out.splitlines() if "req/s" not in line}
    assert int(table["sharing API: token, grant, quota, mask, audit"][-1]) == 0, "all 200"
    assert "one per sharing request" in out and "ratio sharing / bare" in out
