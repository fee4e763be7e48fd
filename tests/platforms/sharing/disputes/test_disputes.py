"""异议/纠错: raised with evidence by a department holding a grant, marked on the record while
open, closed as fixed when a batch changes the record, or rejected with reasons; counted."""

from __future__ import annotations

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.disputes import service as disputes
from exchange.platforms.sharing.disputes.models import Dispute
from tests.platforms.sharing.builders import (
    PROVIDER,
    PURPOSE,
    Caller,
    console_login,
    csrf_of,
    grant,
    load,
    load_people,
    make_user,
)


@pytest.fixture
def people(city: TestClient) -> pa.Table:
    return load_people(city, 5)


@pytest.fixture
def granted(consumer: Caller, provider: Caller, people: pa.Table) -> pa.Table:
    grant(consumer, provider)
    consumer.extra = PURPOSE
    return people


def _dispute(consumer: Caller, record: str, **extra: object):  # type: ignore[no-untyped-def]
    body = {
        "resource": "population",
        "key": record,
        "field": "name",
        "claim": "姓名与户籍登记不一致",
        "evidence": "户口簿第3页，案卷 MZ-2024-001",
    }
    return consumer.post("/sharing/v1/disputes", json=body | extra)


@pytest.mark.both_backends
def test_a_dispute_is_marked_on_the_record_until_a_batch_fixes_it(
    city: TestClient, consumer: Caller, provider: Caller, granted: pa.Table
) -> None:
    key = granted["id_number"][0].as_py()
    r = _dispute(consumer, key)
    assert r.status_code == 201, r.text
    d = r.json()
    assert (d["status"], d["raiser"], d["provider"]) == ("open", "MZ", "GA")
    assert d["due_at"] > d["raised_at"]
    record = consumer.get(f"/sharing/v1/resources/population/records/{key}").json()["record"]
    assert [m["id"] for m in record["_disputes"]] == [d["id"]]
    assert record["_disputes"][0]["field"] == "name"
    page = consumer.get("/sharing/v1/resources/population/records").json()["items"]
    flagged = [item for item in page if "_disputes" in item]
    assert len(flagged) == 1, "only the disputed record is marked"
    other = granted["id_number"][1].as_py()
    assert (
        "_disputes"
        not in consumer.get(f"/sharing/v1/resources/population/records/{other}").json()["record"]
    )
    fixed = granted.slice(0, 1).set_column(
        granted.schema.get_field_index("name"), "name", pa.array(["张更正"])
    )
    batch = load(city, "population", fixed)
    after = consumer.get(f"/sharing/v1/disputes/{d['id']}").json()
    assert after["status"] == "fixed" and after["fixed_by_batch"] == str(batch["batch_id"])
    record = consumer.get(f"/sharing/v1/resources/population/records/{key}").json()["record"]
    assert "_disputes" not in record


@pytest.mark.parametrize(
    ("extra", "status", "error"),
    [
        ({"key": "330106199001011234"}, 404, "NoSuchRecord"),
        ({"field": "address"}, 422, "FieldNotGranted"),
        ({"evidence": ""}, 422, "InvalidRequest"),
        ({"resource": "no_such"}, 404, "ResourceNotFound"),
    ],
)
def test_a_bad_dispute_is_refused_and_nothing_is_written(
    consumer: Caller, granted: pa.Table, db: Session, extra: dict[str, str], status: int, error: str
) -> None:
    r = _dispute(consumer, granted["id_number"][0].as_py(), **extra)
    assert r.status_code == status and r.json()["error"] == error, r.text
    assert db.scalar(select(func.count()).select_from(Dispute)) == 0


def test_only_a_department_holding_a_grant_disputes(consumer: Caller, people: pa.Table) -> None:
    r = _dispute(consumer, people["id_number"][0].as_py())
    assert r.status_code == 403 and r.json()["error"] == "NoGrant"


def test_the_provider_rejects_with_reasons_and_the_history_is_counted(
    consumer: Caller, provider: Caller, auditor: Caller, granted: pa.Table
) -> None:
    d = _dispute(consumer, granted["id_number"][0].as_py()).json()
    url = f"/sharing/v1/disputes/{d['id']}/reject"
    assert provider.post(url, json={}).status_code == 422
    r = consumer.post(url, json={"reason": "我方无权驳回"})
    assert r.status_code == 403 and r.json()["error"] == "NotProvider"
    r = provider.post(url, json={"reason": "经核实户籍登记无误"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert provider.post(url, json={"reason": "again"}).status_code == 409
    assert [x["id"] for x in consumer.get("/sharing/v1/disputes").json()["items"]] == [d["id"]]
    counts = {c["department"]: c for c in auditor.get("/sharing/v1/disputes/counts").json()}
    assert counts["MZ"]["raised"] == 1 and counts["GA"]["against"] == 1
    assert counts["GA"]["rejected"] == 1
    seen = auditor.get("/sharing/v1/disputes").json()["items"][0]["key"]
    key = granted["id_number"][0].as_py()
    assert seen == key[:6] + "********" + key[-4:], "the bureau reads no personal data"


def test_disputes_in_the_console_raise_and_reject(
    city: TestClient, db: Session, settings: Settings, granted: pa.Table
) -> None:
    applicant = console_login(city, make_user(db, settings, Role.department, "MZ"))
    page = applicant.get("/console/disputes")
    key = granted["id_number"][0].as_py()
    form = {"resource": "population", "key": key, "field": "gender", "claim": "性别登记错误",
            "evidence": "出生医学证明"}  # fmt: skip
    assert applicant.post("/console/disputes", data=form).status_code == 403, "CSRF"
    bad = applicant.post("/console/disputes", data=form | {"evidence": "", "csrf": csrf_of(page)})
    assert bad.status_code == 400 and "evidence" in bad.text
    r = applicant.post("/console/disputes", data=form | {"csrf": csrf_of(page)})
    assert r.status_code == 303, r.text
    reviewer = console_login(city, make_user(db, settings, Role.department, PROVIDER))
    listing = reviewer.get("/console/disputes")
    d = db.scalars(select(Dispute)).one()
    url = f"/console/disputes/{d.id}/reject"
    assert url in listing.text and "性别登记错误" in listing.text
    r = reviewer.post(url, data={"reason": "经核实无误", "csrf": csrf_of(listing)})
    assert r.status_code == 303
    assert "已驳回 rejected" in applicant.get("/console/disputes").text
    auditor = console_login(city, make_user(db, settings, Role.auditor))
    assert "Per department" in auditor.get("/console/disputes").text


def test_one_read_per_period_looks_for_open_disputes_the_others_use_the_last_answer() -> None:
    disputes._forget_open()
    assert disputes.cached_open("population") is None, "the first read looks"
    assert disputes.cached_open("population") is not None, "a concurrent one uses the last set"
    disputes._forget_open()  # what raising or closing a dispute in this process does
    assert disputes.cached_open("population") is None
