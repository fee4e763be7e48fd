"""The drop folder: only complete files are taken, and each ends in done/ or rejected/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from exchange.connector import outbox
from exchange.connector.spool import SpooledBatch
from exchange.connector.watch import FolderWatch, Settled
from exchange.core.resource_schema import SCHEMAS_DIR, load_all

HEADER = "indicator,division,period,value,unit,source\n"
ROW = "GDP,330106000000,2023,2100.5,亿元,统计局\n"


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop" / "macro_indicator"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def watch(tmp_path: Path) -> FolderWatch:
    warnings: list[str] = []
    return FolderWatch(
        tmp_path / "drop", tmp_path / "connector", load_all(SCHEMAS_DIR), warn=warnings.append
    )


def test_a_file_is_taken_once_it_stopped_growing(watch: FolderWatch, drop: Path) -> None:
    export = drop / "gdp.csv"
    export.write_text(HEADER)
    assert watch.look() == []  # first sight
    with export.open("a") as fh:
        fh.write(ROW)
    os.utime(export, ns=(1, 1))  # a different size is enough, whatever the clock says
    assert watch.look() == []  # still growing
    assert watch.look() == [("macro_indicator", export)]


def test_temporary_names_and_other_folders_are_never_taken(
    watch: FolderWatch, drop: Path, tmp_path: Path
) -> None:
    for name in (".gdp.csv", "gdp.csv.part", "gdp.tmp", "notes.txt"):
        (drop / name).write_text(HEADER + ROW)
    (tmp_path / "drop" / "not_a_resource").mkdir()
    (tmp_path / "drop" / "not_a_resource" / "x.csv").write_text(HEADER + ROW)
    watch.look()
    assert watch.look() == []


def test_an_accepted_file_moves_to_done_keeping_earlier_ones(
    watch: FolderWatch, drop: Path, tmp_path: Path
) -> None:
    (drop / "done").mkdir()
    (drop / "done" / "gdp.csv").write_text("last month's export")
    (drop / "gdp.csv").write_text(HEADER + ROW)
    batch = watch.spool_file("macro_indicator", drop / "gdp.csv")
    assert isinstance(batch, SpooledBatch) and batch.rows == 1
    assert not (drop / "gdp.csv").exists()  # the name is free for the next export
    assert watch.settle() == []  # still in the outbox
    outbox.mark_sent(tmp_path / "connector", batch)
    [settled] = watch.settle()
    assert settled.accepted and settled.file == drop / "done" / f"gdp-{batch.batch_id[:8]}.csv"
    assert (drop / "done" / "gdp.csv").read_text() == "last month's export"
    assert not (drop / ".sending" / batch.batch_id).exists()


def test_a_refused_file_moves_to_rejected_with_the_hubs_reasons(
    watch: FolderWatch, drop: Path, tmp_path: Path
) -> None:
    (drop / "gdp.csv").write_text(HEADER + ROW)
    batch = watch.spool_file("macro_indicator", drop / "gdp.csv")
    assert isinstance(batch, SpooledBatch)
    problem = {"rule": "division", "row": 0, "field": "division", "message": "unknown"}
    outbox.set_aside(
        tmp_path / "connector", batch, 422, {"error": "BatchQuarantined", "problems": [problem]}
    )
    [settled] = watch.settle()
    assert not settled.accepted and settled.file == drop / "rejected" / "gdp.csv"
    reasons = (drop / "rejected" / "gdp.csv.error.json").read_text()
    assert '"rule": "division"' in reasons and batch.batch_id in reasons


def test_an_unreadable_file_is_rejected_locally_naming_row_and_field(
    watch: FolderWatch, drop: Path
) -> None:
    (drop / "bad.csv").write_text(HEADER + ROW + "GDP,330106000000,2024,lots,亿元,x\n")
    settled = watch.spool_file("macro_indicator", drop / "bad.csv")
    assert isinstance(settled, Settled) and settled.batch_id is None
    reasons = (drop / "rejected" / "bad.csv.error.json").read_text()
    assert '"row": 3' in reasons and '"field": "value"' in reasons  # line 3: header counted


def test_a_file_whose_batch_left_the_outbox_is_read_again(watch: FolderWatch, drop: Path) -> None:
    (drop / "gdp.csv").write_text(HEADER + ROW)
    batch = watch.spool_file("macro_indicator", drop / "gdp.csv")
    assert isinstance(batch, SpooledBatch)
    Path(batch.path).unlink()
    batch.meta_path.unlink()
    assert watch.settle() == []
    assert (drop / "gdp.csv").exists()
