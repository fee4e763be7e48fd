"""Builders for sharing tests: departments with credentials, data in the registries, grants."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyarrow as pa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from basebases.synthetic import people
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.directory import repository as directory
from exchange.directory import service as directory_service
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access.principal import Role
from exchange.seed import push_table

CONSUMER = "MZ"  # 民政局: reads population data; provides nothing
PROVIDER = "GA"  # 公安局: provides population
DEFAULT_FIELDS = ["id_number", "name", "gender", "household_division", "phone", "status"]
PURPOSE = {"X-Purpose": "%E6%A0%B8%E9%AA%8C%E8%BA%AB%E4%BB%BD", "X-Case-Number": "MZ-2024-001"}


@dataclass
class Caller:
    """An API client and a token for it, sending requests through the test client."""

    http: TestClient
    client_id: uuid.UUID
    secret: str
    role: Role
    department: str | None
    token: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **self.extra}

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.http.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.http.post(url, json=json, headers=headers, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.http.delete(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)


def ensure_department(session: Session, settings: Settings, code: str, name: str) -> None:
    node = directory.get_node(session, settings.node_code)
    assert node is not None, "seed the city first"
    directory_service.ensure_department(session, node, code, name)


def make_caller(
    http: TestClient,
    session: Session,
    settings: Settings,
    role: Role = Role.department,
    department: str | None = CONSUMER,
) -> Caller:
    """A committed API client of `role` with a fresh access token."""
    dept = department if role is Role.department else None
    client, secret = credentials.create_client(
        session, settings.node_code, name=f"{role}-{dept}", role=role, department=dept, by="test"
    )
    session.commit()
    caller = Caller(http, client.id, secret, role, dept)
    caller.token = token_for(http, client.id, secret)
    return caller


def token_for(http: TestClient, client_id: uuid.UUID, secret: str) -> str:
    r = http.post(
        "/sharing/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": str(client_id),
            "client_secret": secret,
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def load_people(http: TestClient, n: int = 20, *, seed: int = 7) -> pa.Table:
    """`n` residents pushed through the intake into the population registry."""
    table = people(n, seed=seed)
    load(http, "population", table)
    return table


def load(http: TestClient, resource: str, table: pa.Table) -> dict[str, Any]:
    rt: Runtime = http.app.state.runtime  # type: ignore[attr-defined]
    result = push_table(rt, resource, table)
    assert result["status"] == "accepted", result
    return result


def apply(
    consumer: Caller,
    resource: str = "population",
    *,
    fields: list[str] | None = None,
    plain_fields: list[str] | None = None,
    days: int = 30,
    **extra: Any,
) -> httpx.Response:
    body = {
        "resource": resource,
        "purpose": "核验低保申请人身份",
        "legal_basis": "《社会救助暂行办法》第十一条",
        "fields": fields or DEFAULT_FIELDS,
        "plain_fields": plain_fields or [],
        "duration_days": days,
        **extra,
    }
    return consumer.post("/sharing/v1/applications", json=body)


def grant(
    consumer: Caller,
    provider: Caller,
    resource: str = "population",
    *,
    approval: dict[str, Any] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """Apply and (if needed) approve; returns the approved application."""
    r = apply(consumer, resource, **kw)
    assert r.status_code == 201, r.text
    app = r.json()
    if app["status"] != "approved":
        r = provider.post(f"/sharing/v1/applications/{app['id']}/approve", json=approval or {})
        assert r.status_code == 200, r.text
        app = r.json()
    return dict(app)


# -- the staff console ---------------------------------------------------------------------
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def make_user(
    session: Session,
    settings: Settings,
    role: Role,
    department: str | None = CONSUMER,
    username: str | None = None,
) -> str:
    name = username or f"{role.value}_{uuid.uuid4().hex[:6]}"
    dept = department if role is Role.department else None
    credentials.create_user(
        session, settings.node_code, username=name, password=PASSWORD, role=role, department=dept
    )
    session.commit()
    return name


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, "the page carries a CSRF token"
    return found.group(1)


def console_login(http: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """A browser of its own (cookie jar) signed in to the console as `username`."""
    browser = TestClient(http.app, follow_redirects=False)
    form = browser.get("/console/login")
    r = browser.post(
        "/console/login",
        data={"username": username, "password": password, "csrf": csrf_of(form)},
    )
    assert r.status_code == 303, r.text
    return browser
