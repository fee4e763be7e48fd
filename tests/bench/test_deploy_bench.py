"""The scale-out benchmark keeps working end to end at a tiny size (timings not asserted)."""

from __future__ import annotations

import pytest

from bench import deploy

pytestmark = pytest.mark.slow


def test_the_deploy_benchmark_measures_workers_replica_and_s3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = deploy.main(
        ["--rows", "2000", "--workers", "1", "2", "--clients", "4", "--seconds", "1",
         "--warmup", "0.5", "--rounds", "1", "--batches", "3", "--batch-mb", "0.2"]
    )  # fmt: skip
    labels = [r.label for r in rows]
    for setup in ("1 worker", "2 workers", "1 worker + replica", "2 workers + replica"):
        assert f"records by key, {setup}" in labels, "every request answered 200"
        assert f"catalogue search, {setup}" in labels
        assert f"memory per worker, {setup}" in labels
    assert all(r.value > 0 for r in rows)
    s3 = [r for r in rows if "S3 store" in r.label]
    assert [r.unit for r in s3] == ["MB/s", "batches/s"] * 2
    assert all(r.baseline and r.baseline_label == "local folder" for r in s3)
    out = capsys.readouterr().out
    assert "transactions served by the replica" in out
    served = [int(line.split(": ")[1].split()[0].replace(",", "")) for line in out.splitlines()
              if "transactions served by the replica" in line]  # fmt: skip
    assert served and all(n > 0 for n in served), "the catalogue reads went to the replica"
    assert "this machine has" in out and "cores" in out
