"""Pushing batches to a node: accepted whole, or refused with a clear 4xx and nothing written."""

from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from basebases import synthetic
from exchange.core import signing
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.core.signing import KeyPair
from exchange.datastore.tables import tables_for
from exchange.platforms.exchange.lineage import service as receipts
from exchange.platforms.exchange.models import Batch, Connector, Receipt
from tests.builders import arrow_bytes, indicators, make_connector, push, seed_city, signed_get

pytestmark = pytest.mark.both_backends


def rows_in(db: Session, code: str = "macro_indicator") -> int:
    return db.execute(text(f"SELECT count(*) FROM ds_{code} WHERE NOT _deleted")).scalar_one()


def batches(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Batch)) or 0


def payload_files(settings: Settings) -> list[Path]:
    root = Path(settings.resolved_store_url.removeprefix("file://"))
    return [p for p in root.rglob("*.arrow")] if root.exists() else []


def test_an_accepted_batch_is_loaded_with_a_signed_receipt(
    client: TestClient, db: Session, settings: Settings, tj: tuple[Connector, KeyPair]
) -> None:
    r = push(client, *tj, indicators(3))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "accepted" and body["rows"] == 3
    assert body["load"]["inserted"] == 3
    assert [step["action"] for step in body["lineage"]] == ["received", "accepted"]
    node_key = client.get("/exchange/v1/node").json()["public_key"]
    for step in body["lineage"]:
        assert step["layout"] == signing.RECEIPT_V2
        message = signing.receipt_message(
            body["batch_id"],
            step["node"],
            step["action"],
            step["at"],
            step["sha256"],
            step["detail"],
            step["layout"],
        )
        assert signing.verify(node_key, message, step["signature"])
        forged = {**step, "detail": {**step["detail"], "rows": 3000}}
        assert not receipts.verify(forged, body["batch_id"], node_key)
    assert rows_in(db) == 3
    versions = tables_for(load_all(SCHEMAS_DIR)["macro_indicator"]).versions
    assert db.execute(select(versions.c._action)).scalars().all() == ["insert"] * 3


def test_resending_a_batch_id_returns_the_first_receipt_and_writes_nothing(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    batch_id = uuid.uuid4()
    first = push(client, *tj, indicators(3), batch_id=batch_id)
    receipts_before = db.scalar(select(func.count()).select_from(Receipt))
    again = push(client, *tj, indicators(3), batch_id=batch_id)
    assert again.status_code == 200
    assert again.json()["lineage"] == first.json()["lineage"]
    assert db.scalar(select(func.count()).select_from(Receipt)) == receipts_before
    assert rows_in(db) == 3


def test_reusing_a_batch_id_for_other_content_is_a_409(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    batch_id = uuid.uuid4()
    push(client, *tj, indicators(3), batch_id=batch_id)
    r = push(client, *tj, indicators(4), batch_id=batch_id)
    assert r.status_code == 409 and r.json()["error"] == "BatchIdReused"
    assert rows_in(db) == 3


def test_a_truncated_body_is_refused_and_nothing_is_kept(
    client: TestClient, db: Session, settings: Settings, tj: tuple[Connector, KeyPair]
) -> None:
    data = arrow_bytes(indicators(50))
    r = push(client, *tj, data[: len(data) // 2])
    assert r.status_code == 400 and r.json()["error"] == "NotArrow"
    assert "truncated" in r.json()["detail"] or "Arrow" in r.json()["detail"]
    assert batches(db) == 0 and rows_in(db) == 0
    assert payload_files(settings) == []


def test_a_body_that_is_not_arrow_is_refused(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    r = push(client, *tj, b"indicator,division\nGDP,330106000000\n")
    assert r.status_code == 400 and r.json()["error"] == "NotArrow"
    assert batches(db) == 0


def test_a_wrong_schema_names_the_columns(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    wrong = indicators(2).drop_columns(["unit"]).append_column("colour", pa.array(["red", "blue"]))
    wrong = wrong.set_column(3, "value", pa.array(["1", "2"]))
    r = push(client, *tj, wrong)
    assert r.status_code == 422 and r.json()["error"] == "SchemaMismatch"
    problems = {(p["field"], p["rule"]) for p in r.json()["problems"]}
    assert problems == {("value", "type"), ("unit", "missing"), ("colour", "unknown")}
    assert batches(db) == 0


def test_a_hash_mismatch_is_refused(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    r = push(client, *tj, indicators(3), sign_sha="0" * 64)
    assert r.status_code == 400 and r.json()["error"] == "HashMismatch"
    assert batches(db) == 0 and rows_in(db) == 0


def test_a_bad_batch_signature_is_refused(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    forged = KeyPair.generate().sign(b"something else")
    r = push(client, *tj, indicators(3), headers={"X-Batch-Signature": forged})
    assert r.status_code == 422 and r.json()["error"] == "BatchSignatureInvalid"
    assert batches(db) == 0


def test_a_request_signed_with_another_key_is_401(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    connector, _ = tj
    r = push(client, connector, KeyPair.generate(), indicators(3))
    assert r.status_code == 401 and r.json()["error"] == "InvalidSignature"
    assert batches(db) == 0


def test_an_unknown_resource_is_404(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    r = push(client, *tj, indicators(3), resource="weather")
    assert r.status_code == 404 and "'weather'" in r.json()["detail"]


def test_a_department_may_push_only_its_own_resources(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    r = push(client, *tj, indicators(3), resource="legal_person")
    assert r.status_code == 403 and r.json()["error"] == "NotProvider"


@pytest.mark.parametrize("state", ["registered", "suspended"])
def test_a_connector_that_is_not_active_gets_403(
    client: TestClient, db: Session, settings: Settings, state: str
) -> None:
    seed_city(db, settings)
    connector, keys = make_connector(db, settings, department="TJ", state=state)
    db.commit()
    r = push(client, connector, keys, indicators(3))
    assert r.status_code == 403 and r.json()["error"] == "ConnectorNotActive"
    assert state in r.json()["detail"]


def test_an_unregistered_connector_gets_401(
    client: TestClient, db: Session, settings: Settings
) -> None:
    seed_city(db, settings)
    db.commit()
    target = f"/exchange/v1/batches/{uuid.uuid4()}"
    r = signed_get(client, str(uuid.uuid4()), KeyPair.generate(), target)
    assert r.status_code == 401 and r.json()["error"] == "UnknownCaller"


def test_a_batch_over_the_size_limit_is_413(
    client: TestClient,
    db: Session,
    settings: Settings,
    runtime: Runtime,
    tj: tuple[Connector, KeyPair],
) -> None:
    runtime.settings = settings.model_copy(update={"max_batch_bytes": 2048})
    r = push(client, *tj, indicators(500))
    assert r.status_code == 413 and "2048 bytes" in r.json()["detail"]
    assert batches(db) == 0 and payload_files(settings) == []


def test_a_batch_failing_the_quality_gate_is_quarantined_with_reasons(
    client: TestClient, db: Session, settings: Settings, tj: tuple[Connector, KeyPair]
) -> None:
    bad = indicators(3).set_column(1, "division", pa.array(["330106000000", "339999000000", "1"]))
    r = push(client, *tj, bad)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "BatchQuarantined"
    findings = body["problems"]
    # Rows are numbered from 1 when the sender names no first row (JSON Lines, Parquet).
    assert {(f["rule"], f["field"], f["row"]) for f in findings} >= {("division", "division", 2)}
    assert body["batch"]["status"] == "quarantined"
    assert rows_in(db) == 0
    fixed = push(client, *tj, indicators(3))
    assert fixed.status_code == 201 and rows_in(db) == 3


def test_a_replayed_quarantined_batch_gets_the_first_refusal_again(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    bad = indicators(2).set_column(1, "division", pa.array(["330106000000", "339999000000"]))
    batch_id = uuid.uuid4()
    first = push(client, *tj, bad, batch_id=batch_id)
    again = push(client, *tj, bad, batch_id=batch_id)
    assert first.status_code == again.status_code == 422
    assert {**again.json(), "request_id": None} == {**first.json(), "request_id": None}
    assert batches(db) == 1


def test_a_department_may_publish_rows_only_within_its_nodes_area(
    client: TestClient, db: Session, settings: Settings, tj: tuple[Connector, KeyPair]
) -> None:
    outside = indicators(3).set_column(
        1, "division", pa.array(["330106000000", "330200000000", "330000000000"])
    )
    r = push(client, *tj, outside)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "OutsideJurisdiction"
    assert body["detail"].startswith("row 2, field division: 330200000000 (宁波市) is outside")
    assert [(p["rule"], p["row"], p["value"]) for p in body["problems"]] == [
        ("jurisdiction", 2, "330200000000")
    ]
    assert rows_in(db) == 0 and batches(db) == 0 and payload_files(settings) == []


def test_a_duplicate_key_within_a_batch_quarantines_it(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    twice = pa.concat_tables([indicators(2), indicators(1)])
    r = push(client, *tj, twice)
    assert r.status_code == 422
    assert r.json()["problems"][0]["rule"] == "primary_key_unique"
    assert r.json()["problems"][0]["key"] == "GDP|330106000000|2000"
    assert rows_in(db) == 0


def test_an_op_column_deletes_rows_as_tombstones(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    push(client, *tj, indicators(3))
    deletion = indicators(1).append_column("_op", pa.array(["delete"]))
    r = push(client, *tj, deletion)
    assert r.status_code == 201 and r.json()["load"]["deleted"] == 1
    assert rows_in(db) == 2
    tomb = db.execute(text("SELECT _deleted, _version FROM ds_macro_indicator WHERE period='2000'"))
    assert tomb.one() == (True, 2)


def test_lineage_is_visible_to_the_sender(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    connector, keys = tj
    batch_id = push(client, *tj, indicators(2)).json()["batch_id"]
    r = signed_get(client, str(connector.id), keys, f"/exchange/v1/batches/{batch_id}")
    assert r.status_code == 200
    assert r.json()["origin"].endswith(f"/TJ/{connector.id}")
    assert r.json()["gate"]["pass_rate"] == 1.0


def test_a_caller_over_its_request_rate_gets_429(
    client: TestClient,
    db: Session,
    settings: Settings,
    runtime: Runtime,
    tj: tuple[Connector, KeyPair],
) -> None:
    runtime.settings = settings.model_copy(update={"caller_rate_per_minute": 2})
    connector, keys = tj
    target = f"/exchange/v1/batches/{uuid.uuid4()}"
    codes = [signed_get(client, str(connector.id), keys, target).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    last = signed_get(client, str(connector.id), keys, target)
    assert last.json()["error"] == "RateLimited" and int(last.headers["retry-after"]) >= 1


def _broken_id(people: pa.Table, row: int) -> tuple[pa.Table, str]:
    ids = people.column("id_number").to_pylist()
    good = ids[row]
    ids[row] = good[:-1] + ("0" if good[-1] != "0" else "1")  # the check digit no longer fits
    at = people.schema.get_field_index("id_number")
    return people.set_column(at, "id_number", pa.array(ids)), ids[row]


def test_the_sender_sees_its_rows_by_its_files_lines_and_its_values_in_plain(
    client: TestClient, db: Session, settings: Settings, tj: tuple[Connector, KeyPair]
) -> None:
    ga = make_connector(db, settings, department="GA")
    db.commit()
    schema = load_all(SCHEMAS_DIR)["population"].arrow_schema()
    people, bad = _broken_id(synthetic.people(5, seed=7).cast(schema), 3)
    batch_id = uuid.uuid4()
    # A CSV: the header is line 1, the rows lines 2-6; the bad one (position 3) is line 5.
    r = push(
        client,
        *ga,
        people,
        resource="population",
        batch_id=batch_id,
        headers={"X-Batch-First-Row": "2"},
    )
    assert r.status_code == 422, r.text
    found = [p for p in r.json()["problems"] if p["field"] == "id_number"]
    assert found and {p["row"] for p in found} == {5}
    assert {p["value"] for p in found} == {bad} and {p["key"] for p in found} == {bad}
    assert "row 5" in r.json()["detail"]

    target = f"/exchange/v1/batches/{batch_id}"
    own = signed_get(client, str(ga[0].id), ga[1], target).json()["gate"]["findings"]
    assert {p["value"] for p in own if p["field"] == "id_number"} == {bad}
    other = signed_get(client, str(tj[0].id), tj[1], target).json()["gate"]["findings"]
    shown = {p["value"] for p in other if p["field"] == "id_number"}
    assert bad not in shown and all("*" in v for v in shown)
    stored = db.get(Batch, batch_id)
    assert stored is not None and bad not in str(stored.gate)  # kept masked, shown in plain


def test_a_first_row_header_that_is_not_a_row_number_is_a_400(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    r = push(client, *tj, indicators(2), headers={"X-Batch-First-Row": "0"})
    assert r.status_code == 400 and "X-Batch-First-Row" in r.json()["detail"]
    assert batches(db) == 0
