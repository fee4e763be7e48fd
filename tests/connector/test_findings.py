"""A refused batch's findings, as its sender sees them: its file's numbering, its own values."""

from __future__ import annotations

from pathlib import Path

from basebases import synthetic
from exchange.connector import outbox
from exchange.connector.config import rejected_dir
from exchange.connector.files import read_json
from exchange.connector.spool import spool
from exchange.core.resource_schema import SCHEMAS_DIR, load_all


def test_the_sender_sees_its_rows_by_line_and_its_keys_in_plain(tmp_path: Path) -> None:
    schema = load_all(SCHEMAS_DIR)["population"]
    people = synthetic.people(150, seed=4).cast(schema.arrow_schema())
    (tmp_path / "outbox").mkdir()
    batch = spool(
        people.to_batches(max_chunksize=64),
        schema.arrow_schema(),
        tmp_path / "outbox",
        "population",
        source=str(tmp_path / "people.csv"),
    )
    masked = "330106********1234"
    hub_says = {
        "error": "BatchQuarantined",
        "problems": [
            {
                "rule": "cn_ric.checksum",
                "field": "id_number",
                "row": 100,
                "key": masked,
                "value": masked,
                "message": "checksum",
            },
            {"rule": "missing", "field": "phone", "row": None, "message": "column missing"},
        ],
    }
    shown = outbox.set_aside(tmp_path, batch, 422, hub_says)
    row_100 = people["id_number"][100].as_py()
    first = shown["problems"][0]
    assert (first["line"], first["key"], first["value"]) == (102, row_100, row_100)
    assert shown["problems"][1] == hub_says["problems"][1]
    kept = read_json(rejected_dir(tmp_path) / f"{batch.batch_id}.error.json")
    assert kept["problems"][0]["key"] == row_100 and kept["status"] == 422
