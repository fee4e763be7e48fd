"""OAuth2 client credentials: secrets hashed at rest, short-lived JWTs signed by the node."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.core.errors import HubError
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.core.signing import KeyPair
from exchange.directory import keys
from exchange.platforms.sharing.access import router as api_access
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access import tokens
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.access.repository import get_client
from exchange.platforms.sharing.access.service import client_principal
from exchange.platforms.sharing.models import ApiClient
from tests.builders import rotate_node_key
from tests.platforms.sharing.builders import PURPOSE, Caller, grant, load_people


def _token_request(http: TestClient, client_id: str, secret: str, **extra: str):  # type: ignore[no-untyped-def]
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return http.post("/sharing/v1/token", data=data | extra)


@pytest.mark.both_backends
def test_a_client_gets_a_short_lived_token_the_jwks_key_verifies(
    city: TestClient, consumer: Caller, runtime: Runtime
) -> None:
    r = _token_request(city, str(consumer.client_id), consumer.secret)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    jwk = city.get("/sharing/v1/.well-known/jwks.json").json()["keys"][0]
    raw = base64.urlsafe_b64decode(jwk["x"] + "==")
    key = jwt.algorithms.OKPAlgorithm.from_jwk(json.dumps(jwk))
    assert len(raw) == 32
    claims = jwt.decode(body["access_token"], key, algorithms=["EdDSA"], audience="hub-sharing")
    assert claims["sub"] == str(consumer.client_id)
    assert claims["role"] == "department" and claims["dept"] == "MZ"
    assert claims["exp"] - claims["iat"] == 300


def test_http_basic_client_authentication_is_accepted(city: TestClient, consumer: Caller) -> None:
    basic = base64.b64encode(f"{consumer.client_id}:{consumer.secret}".encode()).decode()
    r = city.post(
        "/sharing/v1/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200 and r.json()["access_token"]


def test_only_the_secret_digest_is_stored(consumer: Caller, db: Session) -> None:
    row = db.scalars(select(ApiClient).where(ApiClient.id == consumer.client_id)).one()
    assert consumer.secret.startswith("hubs_")
    assert consumer.secret not in (row.secret_sha256, row.name)
    assert len(row.secret_sha256) == 64


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [("{id}", "hubs_wrong"), ("00000000-0000-0000-0000-000000000000", "{secret}"), ("x", "y")],
)
def test_a_wrong_client_or_secret_gets_one_answer(
    city: TestClient, consumer: Caller, client_id: str, secret: str
) -> None:
    cid = client_id.format(id=consumer.client_id)
    r = _token_request(city, cid, secret.format(secret=consumer.secret))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_another_grant_type_is_refused(city: TestClient, consumer: Caller) -> None:
    r = _token_request(city, str(consumer.client_id), consumer.secret, grant_type="password")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_guessing_secrets_is_rate_limited(
    city: TestClient, consumer: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_access, "TOKEN_TRIES_PER_MINUTE", 3)
    answers = [_token_request(city, str(consumer.client_id), "hubs_x") for _ in range(10)]
    assert answers[0].status_code == 401
    limited = [r for r in answers if r.status_code == 429]
    assert limited, "ten tries against a limit of three per minute must hit it"
    assert int(limited[0].headers["retry-after"]) >= 1


def test_no_credential_is_401_with_a_bearer_challenge(city: TestClient) -> None:
    r = city.get("/sharing/v1/resources/population/records/330106199001011234")
    assert r.status_code == 401 and r.json()["error"] == "MissingToken"
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_a_malformed_token_is_401(city: TestClient, token: str) -> None:
    r = city.get("/sharing/v1/allowed", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_an_expired_token_is_401(
    city: TestClient, consumer: Caller, db: Session, runtime: Runtime
) -> None:
    client = get_client(db, consumer.client_id)
    assert client is not None
    principal = client_principal(client, runtime.settings.node_code)
    old = tokens.issue(runtime.node_keys, principal, ttl_s=-5).access_token
    r = city.get("/sharing/v1/allowed", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_a_token_signed_by_another_key_is_401(
    city: TestClient, consumer: Caller, db: Session, runtime: Runtime
) -> None:
    client = get_client(db, consumer.client_id)
    assert client is not None
    forged = tokens.issue(
        KeyPair.generate(), client_principal(client, runtime.settings.node_code), 300
    ).access_token
    r = city.get("/sharing/v1/allowed", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_a_revoked_client_stops_at_once_even_with_a_live_token(
    city: TestClient, consumer: Caller, provider: Caller, admin: Caller
) -> None:
    people = load_people(city, 5)
    grant(consumer, provider)
    consumer.extra = PURPOSE
    url = f"/sharing/v1/resources/population/records/{people['id_number'][0].as_py()}"
    assert consumer.get(url).status_code == 200
    r = admin.post(f"/sharing/v1/clients/{consumer.client_id}/revoke")
    assert r.status_code == 200 and r.json()["revoked_at"]
    refused = consumer.get(url)
    assert refused.status_code == 403 and refused.json()["error"] == "ClientRevoked"
    assert consumer.get("/sharing/v1/allowed").status_code == 403
    again = _token_request(city, str(consumer.client_id), consumer.secret)
    assert again.status_code == 401


def test_an_admin_creates_a_client_and_sees_its_secret_once(
    city: TestClient, admin: Caller
) -> None:
    r = admin.post("/sharing/v1/clients", json={"name": "民政局低保系统", "department": "MZ"})
    assert r.status_code == 201
    made = r.json()
    assert made["client_secret"].startswith("hubs_") and made["department"] == "MZ"
    listed = admin.get("/sharing/v1/clients").json()
    assert made["client_id"] in {c["client_id"] for c in listed}
    assert all("client_secret" not in c for c in listed)
    pending = _token_request(city, made["client_id"], made["client_secret"])
    assert pending.status_code == 403, "a department's client waits for the department"
    auditor = admin.post("/sharing/v1/clients", json={"name": "审计", "role": "auditor"}).json()
    assert _token_request(city, auditor["client_id"], auditor["client_secret"]).status_code == 200


def test_a_department_client_needs_a_known_department(admin: Caller) -> None:
    r = admin.post("/sharing/v1/clients", json={"name": "x", "department": "NOPE"})
    assert r.status_code == 404 and "'NOPE'" in r.json()["detail"]
    r = admin.post("/sharing/v1/clients", json={"name": "x"})
    assert r.status_code == 422 and r.json()["error"] == "DepartmentRequired"


@pytest.mark.parametrize(
    ("username", "password", "role", "department", "error"),
    [
        ("ga_clerk", "a long enough passphrase", Role.auditor, None, "UserExists"),
        ("x1", "a long enough passphrase", Role.department, None, "DepartmentRequired"),
        ("x2", "a long enough passphrase", Role.department, "NOPE", "UnknownDepartment"),
        ("x3", "a long enough passphrase", Role.auditor, "GA", "bureau-wide"),
        ("x4", "short", Role.admin, None, "12 characters"),
        ("bad name", "a long enough passphrase", Role.admin, None, "username"),
    ],
)
def test_console_users_are_checked_before_they_are_made(
    city: TestClient,
    db: Session,
    settings: Settings,
    username: str,
    password: str,
    role: Role,
    department: str | None,
    error: str,
) -> None:
    credentials.create_user(
        db, settings.node_code, username="ga_clerk", password="p" * 12, role=Role.admin,
        department=None,
    )  # fmt: skip
    with pytest.raises(HubError) as caught:
        credentials.create_user(
            db, settings.node_code, username=username, password=password, role=role,
            department=department,
        )  # fmt: skip
    assert error in f"{caught.value.code}: {caught.value.detail}"


@pytest.mark.both_backends
def test_tokens_outlive_a_node_key_rotation_until_the_old_key_is_retired(
    city: TestClient,
    consumer: Caller,
    db: Session,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tokens, "REFRESH_S", 0.0)  # notice the retirement at once
    allowed = "/sharing/v1/allowed"
    before = consumer.token
    old, new = rotate_node_key(db, runtime)
    after = _token_request(city, str(consumer.client_id), consumer.secret).json()["access_token"]
    assert jwt.get_unverified_header(after)["kid"] == new.key_id
    for token in (before, after):
        r = city.get(allowed, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
    kids = {k["kid"] for k in city.get("/sharing/v1/.well-known/jwks.json").json()["keys"]}
    assert kids == {old.key_id, new.key_id}

    keys.retire(db, keys.KeyOwner(keys.NODE, runtime.settings.node_code), old.key_id)
    db.commit()
    r = city.get(allowed, headers={"Authorization": f"Bearer {before}"})
    assert r.status_code == 401 and "retired" in r.json()["detail"]
    assert city.get(allowed, headers={"Authorization": f"Bearer {after}"}).status_code == 200
    kids = {k["kid"] for k in city.get("/sharing/v1/.well-known/jwks.json").json()["keys"]}
    assert kids == {new.key_id}


def test_the_bureau_adds_a_consumer_only_department_by_api(
    city: TestClient, admin: Caller, consumer: Caller
) -> None:
    body = {"code": "WJ", "name": "卫生健康委员会", "parent_org": "杭州市人民政府"}
    assert consumer.post("/sharing/v1/departments", json=body).status_code == 403
    r = admin.post("/sharing/v1/departments", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["code"] == "WJ" and r.json()["parent_org"] == "杭州市人民政府"
    assert admin.post("/sharing/v1/departments", json=body).status_code == 409
    listed = consumer.get("/sharing/v1/departments").json()
    assert "WJ" in {d["code"] for d in listed}
    made = admin.post("/sharing/v1/clients", json={"name": "卫健委系统", "department": "WJ"})
    assert made.status_code == 201, made.text
