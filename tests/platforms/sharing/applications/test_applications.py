"""Apply -> review -> approve (possibly less) or reject with a reason; deadlines; renew, revoke."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.directory.models import Resource
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.applications.deadlines import CST, add_working_days
from exchange.platforms.sharing.models import Application, Grant
from tests.platforms.sharing.builders import PURPOSE, Caller, apply, grant, load_people, make_caller

PDF = b"%PDF-1.4\n% a tiny document\n"


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.both_backends
def test_an_unconditional_resource_is_granted_on_application(consumer: Caller) -> None:
    r = apply(consumer, "legal_person", fields=["uscc", "name", "status", "legal_rep_name"])
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["status"] == "approved" and app["grant_id"]
    g = consumer.get(f"/sharing/v1/grants/{app['grant_id']}").json()
    assert g["state"] == "active" and g["conditional"] is False
    assert g["fields"] == ["uscc", "name", "status", "legal_rep_name"]


def test_plain_personal_values_need_review_even_on_unconditional_resources(
    consumer: Caller,
) -> None:
    r = apply(
        consumer, "legal_person", fields=["uscc", "legal_rep_name"], plain_fields=["legal_rep_name"]
    )
    assert r.status_code == 201 and r.json()["status"] == "submitted"
    assert r.json()["grant_id"] is None


@pytest.mark.both_backends
def test_a_conditional_application_waits_for_the_provider(consumer: Caller) -> None:
    app = apply(consumer).json()
    assert app["status"] == "submitted" and app["grant_id"] is None
    assert (app["applicant"], app["provider"]) == ("MZ", "GA")
    consumer.extra = PURPOSE
    r = consumer.get("/sharing/v1/resources/population/records/330106199001011234")
    assert r.status_code == 403 and r.json()["error"] == "NoGrant"


def test_the_provider_approves_fewer_fields_for_a_shorter_period(
    consumer: Caller, provider: Caller
) -> None:
    app = apply(consumer, days=90).json()
    r = provider.post(
        f"/sharing/v1/applications/{app['id']}/approve",
        json={"fields": ["id_number", "name", "status"], "duration_days": 10},
    )
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "approved" and decided["decided_by"].startswith("client:")
    g = provider.get(f"/sharing/v1/grants/{decided['grant_id']}").json()
    assert g["fields"] == ["id_number", "name", "status"]
    days = (_when(g["expires_at"]) - _when(g["granted_at"])).days
    assert days == 10


@pytest.mark.parametrize(
    ("approval", "problem"),
    [
        ({"fields": ["id_number", "address"]}, "address"),
        ({"plain_fields": ["phone"]}, "phone"),
        ({"duration_days": 31}, "31"),
        ({"fields": []}, "fields"),
    ],
)
def test_an_approval_cannot_give_more_than_was_asked(
    consumer: Caller, provider: Caller, approval: dict[str, object], problem: str
) -> None:
    app = apply(consumer, days=30).json()
    r = provider.post(f"/sharing/v1/applications/{app['id']}/approve", json=approval)
    assert r.status_code == 422 and problem in r.json()["detail"]


def test_a_rejection_needs_a_reason_and_closes_the_application(
    consumer: Caller, provider: Caller
) -> None:
    app = apply(consumer).json()
    url = f"/sharing/v1/applications/{app['id']}"
    assert provider.post(f"{url}/reject", json={}).status_code == 422
    r = provider.post(f"{url}/reject", json={"reason": "事由与所申请字段不相符"})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["reason"]) == ("rejected", "事由与所申请字段不相符")
    again = provider.post(f"{url}/approve", json={})
    assert again.status_code == 409 and again.json()["error"] == "ApplicationClosed"


def test_only_the_provider_decides(consumer: Caller) -> None:
    app = apply(consumer).json()
    r = consumer.post(f"/sharing/v1/applications/{app['id']}/approve", json={})
    assert r.status_code == 403 and r.json()["error"] == "NotProvider"


def test_another_departments_application_and_grant_do_not_exist_for_me(
    city: TestClient, db: Session, settings: Settings, consumer: Caller, provider: Caller
) -> None:
    other = make_caller(city, db, settings, Role.department, "TJ")
    app = grant(consumer, provider)
    for url in (
        f"/sharing/v1/applications/{app['id']}",
        f"/sharing/v1/grants/{app['grant_id']}",
    ):
        r = other.get(url)
        assert r.status_code == 404, url
    assert other.get("/sharing/v1/applications").json()["items"] == []
    r = other.post(f"/sharing/v1/grants/{app['grant_id']}/revoke", json={"reason": "不是我的"})
    assert r.status_code == 404


def test_a_resource_not_shared_cannot_be_applied_for(consumer: Caller, db: Session) -> None:
    db.execute(update(Resource).where(Resource.code == "material").values(share_class="none"))
    db.commit()
    r = apply(consumer, "material", fields=["material_type"])
    assert r.status_code == 403 and r.json()["error"] == "NotShareable"


def test_a_resource_missing_a_required_catalogue_field_is_a_draft_and_closed(
    consumer: Caller, db: Session
) -> None:
    db.execute(
        update(Resource)
        .where(Resource.code == "legal_person")
        .values(identifier=None, status="draft")
    )
    db.commit()
    entry = consumer.get("/sharing/v1/catalog/legal_person").json()
    assert entry["publishable"] is False and entry["status"] == "draft"
    assert entry["missing_fields"] == ["资源代码 identifier"]
    r = apply(consumer, "legal_person", fields=["uscc"])
    assert r.status_code == 409 and "资源代码 identifier" in r.json()["detail"]


def test_unknown_fields_and_own_resources_are_refused(consumer: Caller, provider: Caller) -> None:
    r = apply(consumer, fields=["id_number", "salary"])
    assert r.status_code == 422 and "salary" in r.json()["detail"]
    r = apply(consumer, fields=["id_number"], plain_fields=["name"])
    assert r.status_code == 422 and "plain_fields" in r.json()["detail"]
    r = apply(provider)
    assert r.status_code == 422 and r.json()["error"] == "OwnResource"


def test_one_open_application_or_grant_per_resource(consumer: Caller, provider: Caller) -> None:
    first = apply(consumer).json()
    r = apply(consumer)
    assert r.status_code == 409 and first["id"] in r.json()["detail"]
    provider.post(f"/sharing/v1/applications/{first['id']}/approve", json={})
    r = apply(consumer)
    assert r.status_code == 409 and r.json()["error"] == "AlreadyGranted"


def test_deadlines_are_working_days_from_submission(consumer: Caller, settings: Settings) -> None:
    app = apply(consumer).json()
    submitted = _when(app["submitted_at"])
    assert _when(app["review_due"]) == add_working_days(submitted, 2)
    assert _when(app["answer_due"]) == add_working_days(submitted, 10)
    assert settings.sharing.answer_working_days == 10


def test_working_days_skip_weekends_in_china_standard_time() -> None:
    friday_evening = dt.datetime(2024, 6, 21, 20, 0, tzinfo=CST)  # a Friday, no holiday near
    due = add_working_days(friday_evening, 2).astimezone(CST)
    assert (due.date(), due.hour, due.minute) == (dt.date(2024, 6, 25), 23, 59)  # Tuesday


@pytest.mark.parametrize("days", [4, 11])
def test_the_answer_deadline_is_kept_within_five_to_ten_days(days: int) -> None:
    with pytest.raises(ValueError, match="answer_working_days"):
        Settings(sharing={"answer_working_days": days})


def test_overdue_applications_are_flagged(
    consumer: Caller, provider: Caller, operator: Caller, db: Session
) -> None:
    late = apply(consumer).json()
    on_time = apply(consumer, "credit_record", fields=["subject_code"]).json()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    db.execute(
        update(Application)
        .where(Application.id == uuid.UUID(late["id"]))
        .values(review_due=past - dt.timedelta(days=3), answer_due=past)
    )
    db.commit()
    seen = provider.get(f"/sharing/v1/applications/{late['id']}").json()
    assert seen["overdue"] == "answer"
    flagged = operator.get("/sharing/v1/applications", params={"overdue": "true"}).json()["items"]
    assert [a["id"] for a in flagged] == [late["id"]]
    assert on_time["overdue"] is None


def test_taking_up_an_application_meets_the_review_deadline(
    consumer: Caller, provider: Caller, db: Session
) -> None:
    app = apply(consumer).json()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    db.execute(
        update(Application).where(Application.id == uuid.UUID(app["id"])).values(review_due=past)
    )
    db.commit()
    assert provider.get(f"/sharing/v1/applications/{app['id']}").json()["overdue"] == "review"
    r = provider.post(f"/sharing/v1/applications/{app['id']}/acknowledge")
    assert r.status_code == 200 and r.json()["status"] == "in_review"
    assert r.json()["overdue"] is None


def test_an_attachment_is_kept_and_served_to_the_parties(
    consumer: Caller, provider: Caller
) -> None:
    attachment = {
        "filename": "公函.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(PDF).decode(),
    }
    app = apply(consumer, attachment=attachment).json()
    assert app["attachment"]["size"] == len(PDF) and app["attachment"]["filename"] == "公函.pdf"
    r = provider.get(f"/sharing/v1/applications/{app['id']}/attachment")
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf"


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"MZ\x90\x00 not a pdf", 422), (b"%PDF-" + b"x" * (6 * 1024 * 1024), 413)],
)
def test_a_bad_attachment_is_refused_and_nothing_is_written(
    consumer: Caller, content: bytes, status: int
) -> None:
    attachment = {
        "filename": "x.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(content).decode(),
    }
    r = apply(consumer, attachment=attachment)
    assert r.status_code == status
    assert consumer.get("/sharing/v1/applications").json()["items"] == []


def test_the_provider_renews_and_revocation_takes_effect_at_once(
    city: TestClient, consumer: Caller, provider: Caller, admin: Caller
) -> None:
    people = load_people(city, 3)
    app = grant(consumer, provider, days=5)
    gid = app["grant_id"]
    before = _when(consumer.get(f"/sharing/v1/grants/{gid}").json()["expires_at"])
    assert (
        consumer.post(f"/sharing/v1/grants/{gid}/renew", json={"duration_days": 30}).status_code
        == 403
    )
    r = provider.post(f"/sharing/v1/grants/{gid}/renew", json={"duration_days": 30})
    assert r.status_code == 200 and _when(r.json()["expires_at"]) - before == dt.timedelta(days=30)
    consumer.extra = PURPOSE
    url = f"/sharing/v1/resources/population/records/{people['id_number'][0].as_py()}"
    assert consumer.get(url).status_code == 200
    assert (
        consumer.post(f"/sharing/v1/grants/{gid}/revoke", json={"reason": "自行停止"}).status_code
        == 403
    )
    r = provider.post(f"/sharing/v1/grants/{gid}/revoke", json={"reason": "超出用途使用"})
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    refused = consumer.get(url)
    assert refused.status_code == 403 and refused.json()["error"] == "GrantRevoked"
    r = provider.post(f"/sharing/v1/grants/{gid}/renew", json={"duration_days": 30})
    assert r.status_code == 409
    assert (
        admin.post(f"/sharing/v1/grants/{gid}/revoke", json={"reason": "again"}).status_code == 409
    )


def test_an_expired_grant_is_refused(
    city: TestClient, consumer: Caller, provider: Caller, db: Session
) -> None:
    people = load_people(city, 3)
    app = grant(consumer, provider)
    consumer.extra = PURPOSE
    url = f"/sharing/v1/resources/population/records/{people['id_number'][0].as_py()}"
    assert consumer.get(url).status_code == 200  # the grant is now in the read path's cache
    db.execute(
        update(Grant)
        .where(Grant.id == uuid.UUID(app["grant_id"]))
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    db.commit()
    r = consumer.get(url)
    assert r.status_code == 403 and r.json()["error"] == "GrantExpired"
    again = consumer.get(url)  # and without the cache
    assert again.status_code == 403 and again.json()["error"] == "GrantExpired"
