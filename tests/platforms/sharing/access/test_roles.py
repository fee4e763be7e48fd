"""Every sharing route x every role: who is let through and who is turned away.

The route list comes from the app, so a new route without a line in EXPECTED fails here.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from tests.platforms.sharing.builders import Caller, console_login, make_caller, make_user

ANYONE = frozenset({"anonymous", "department", "admin", "auditor", "operator"})
SIGNED_IN = ANYONE - {"anonymous"}
DEPT = frozenset({"department"})
OVERSEERS = frozenset({"department", "admin", "auditor", "operator"})
NODES_ONLY = frozenset[str]()  # node-to-node calls: signed by a child node, no bearer token
V1 = "/sharing/v1"

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{V1}/catalog"): SIGNED_IN,
    ("GET", f"{V1}/catalog/{{code}}"): SIGNED_IN,
    ("POST", f"{V1}/token"): ANYONE,
    ("GET", f"{V1}/.well-known/jwks.json"): ANYONE,
    ("GET", f"{V1}/allowed"): DEPT,
    ("GET", f"{V1}/departments"): SIGNED_IN,
    ("POST", f"{V1}/departments"): frozenset({"admin"}),
    ("POST", f"{V1}/clients"): frozenset({"admin"}),
    ("GET", f"{V1}/clients"): frozenset({"admin"}),
    ("POST", f"{V1}/clients/{{client_id}}/revoke"): frozenset({"admin"}),
    ("POST", f"{V1}/clients/{{client_id}}/approve"): DEPT,
    ("POST", f"{V1}/applications"): DEPT,
    ("GET", f"{V1}/applications"): OVERSEERS,
    ("GET", f"{V1}/applications/{{application_id}}"): OVERSEERS,
    ("GET", f"{V1}/applications/{{application_id}}/attachment"): frozenset(
        {"department", "admin", "auditor"}
    ),
    ("POST", f"{V1}/applications/{{application_id}}/acknowledge"): DEPT,
    ("POST", f"{V1}/applications/{{application_id}}/approve"): DEPT,
    ("POST", f"{V1}/applications/{{application_id}}/reject"): DEPT,
    ("GET", f"{V1}/grants"): OVERSEERS,
    ("GET", f"{V1}/grants/{{grant_id}}"): OVERSEERS,
    ("POST", f"{V1}/grants/{{grant_id}}/renew"): DEPT,
    ("POST", f"{V1}/grants/{{grant_id}}/revoke"): frozenset({"department", "admin"}),
    ("GET", f"{V1}/resources/{{code}}/records/{{key}}"): DEPT,
    ("GET", f"{V1}/resources/{{code}}/records"): DEPT,
    ("GET", f"{V1}/resources/{{code}}/events"): DEPT,
    ("GET", f"{V1}/resources/{{code}}/snapshots/full"): DEPT,
    ("GET", f"{V1}/resources/{{code}}/snapshots/delta"): DEPT,
    ("POST", f"{V1}/subscriptions"): DEPT,
    ("GET", f"{V1}/subscriptions"): DEPT,
    ("DELETE", f"{V1}/subscriptions/{{subscription_id}}"): DEPT,
    ("GET", f"{V1}/audit"): frozenset({"auditor"}),
    ("GET", f"{V1}/audit/verify"): frozenset({"auditor"}),
    ("POST", f"{V1}/audit/anchors"): NODES_ONLY,
    ("GET", f"{V1}/audit/anchors/{{child}}"): NODES_ONLY,
    ("GET", f"{V1}/audit/reads"): DEPT,
    ("POST", f"{V1}/disputes"): DEPT,
    ("GET", f"{V1}/disputes"): OVERSEERS,
    ("GET", f"{V1}/disputes/counts"): OVERSEERS,
    ("GET", f"{V1}/disputes/{{dispute_id}}"): OVERSEERS,
    ("POST", f"{V1}/disputes/{{dispute_id}}/reject"): DEPT,
    ("GET", f"{V1}/catalogue"): SIGNED_IN,
    ("POST", f"{V1}/catalogue"): DEPT,
    ("GET", f"{V1}/catalogue/{{code}}"): SIGNED_IN,
    ("PUT", f"{V1}/catalogue/{{code}}"): DEPT,
    ("DELETE", f"{V1}/catalogue/{{code}}"): DEPT,
    ("POST", f"{V1}/catalogue/{{code}}/submit"): DEPT,
    ("POST", f"{V1}/catalogue/{{code}}/approve"): DEPT,
    ("POST", f"{V1}/catalogue/{{code}}/return"): DEPT,
    ("POST", f"{V1}/catalogue/{{code}}/publish"): DEPT,
    ("POST", f"{V1}/catalogue/{{code}}/withdraw"): DEPT,
    ("GET", f"{V1}/catalogue/{{code}}/versions"): SIGNED_IN,
    ("GET", f"{V1}/catalogue/{{code}}/versions/{{number}}"): SIGNED_IN,
    ("GET", f"{V1}/catalogue/{{code}}/events"): SIGNED_IN,
    ("GET", f"{V1}/audit/trace/{{request_id}}"): frozenset({"auditor"}),
    ("POST", f"{V1}/vertical/read"): NODES_ONLY,
    ("GET", f"{V1}/vertical/trace/{{request_id}}"): NODES_ONLY,
    ("GET", f"{V1}/vertical/catalog"): NODES_ONLY,
    ("GET", f"{V1}/federation/catalog"): SIGNED_IN,
    ("POST", f"{V1}/vertical/applications"): DEPT,
    ("POST", f"{V1}/vertical/applications/{{provider}}/{{application_id}}/refresh"): DEPT,
    ("GET", f"{V1}/vertical/grants"): DEPT,
    ("GET", "/console/login"): ANYONE,
    ("POST", "/console/login"): ANYONE,
    ("POST", "/console/logout"): SIGNED_IN,
    ("GET", "/console/"): SIGNED_IN,
    ("GET", "/console/lookup"): DEPT,
    ("POST", "/console/lookup"): DEPT,
    ("GET", "/console/audit"): frozenset({"auditor"}),
    ("GET", "/console/operations"): frozenset({"operator"}),
    ("GET", "/console/ops"): frozenset({"operator"}),
    ("POST", "/console/ops/alerts/{alert_id}/ack"): frozenset({"operator"}),
    ("POST", "/console/ops/alerts/{alert_id}/assign"): frozenset({"operator"}),
    ("GET", "/console/admin"): frozenset({"admin"}),
    ("POST", "/console/admin/users/{username}/disable"): frozenset({"admin"}),
    ("POST", "/console/admin/users/{username}/reset-password"): frozenset({"admin"}),
    ("GET", "/console/applications"): DEPT,
    ("GET", "/console/applications/{application_id}"): DEPT,
    ("POST", "/console/applications/{application_id}/acknowledge"): DEPT,
    ("POST", "/console/applications/{application_id}/approve"): DEPT,
    ("POST", "/console/applications/{application_id}/reject"): DEPT,
    ("GET", "/console/grants"): DEPT,
    ("POST", "/console/grants/{grant_id}/renew"): DEPT,
    ("POST", "/console/grants/{grant_id}/revoke"): DEPT,
    ("GET", "/console/clients"): DEPT,
    ("POST", "/console/clients/{client_id}/approve"): DEPT,
    ("GET", "/console/catalog"): SIGNED_IN,
    ("GET", "/console/quarantine"): SIGNED_IN,
    ("GET", "/console/batches/{batch_id}"): SIGNED_IN,
    ("GET", "/console/batches/{batch_id}/refused.csv"): DEPT,
    ("GET", "/console/connectors"): frozenset({"operator"}),
    ("POST", "/console/connectors/{connector_id}/{action}"): frozenset({"operator"}),
    ("GET", "/console/disputes"): frozenset({"department", "auditor", "operator"}),
    ("POST", "/console/disputes"): DEPT,
    ("POST", "/console/disputes/{dispute_id}/reject"): DEPT,
}
ROLES = ("anonymous", "department", "admin", "auditor", "operator")
PARAMS = {
    "alert_id": "1",
    "code": "population",
    "key": "330106199001011234",
    "application_id": str(uuid.uuid4()),
    "grant_id": str(uuid.uuid4()),
    "client_id": str(uuid.uuid4()),
    "subscription_id": str(uuid.uuid4()),
    "child": "330102000000",
    "username": "nobody",
    "batch_id": str(uuid.uuid4()),
    "connector_id": str(uuid.uuid4()),
    "action": "approve",
    "dispute_id": str(uuid.uuid4()),
    "number": "1",
    "request_id": "r-1",
    "provider": "330100000000",  # the node itself: refused as bad input before any relay
}


def sharing_routes(http: TestClient) -> set[tuple[str, str]]:
    found = set()
    for route in http.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path.startswith((V1, "/console")):
            found |= {(m, route.path) for m in route.methods}
    return found


def test_every_sharing_route_has_an_expected_rule(city: TestClient) -> None:
    routes = sharing_routes(city)
    assert routes - EXPECTED.keys() == set(), "new routes need a line in EXPECTED"
    assert EXPECTED.keys() - routes == set(), "EXPECTED names routes that no longer exist"


@pytest.fixture
def callers(city: TestClient, db: Session, settings: Settings) -> dict[str, Caller]:
    return {r.value: make_caller(city, db, settings, r) for r in Role}


@pytest.fixture
def browsers(city: TestClient, db: Session, settings: Settings) -> dict[str, TestClient]:
    found = {r.value: console_login(city, make_user(db, settings, r)) for r in Role}
    found["anonymous"] = TestClient(city.app, follow_redirects=False)
    return found


def _call(http: TestClient, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    url = path.format(**PARAMS)
    if method == "GET":
        return http.get(url, headers=headers)
    if method == "DELETE":
        return http.delete(url, headers=headers)
    if method == "PUT":
        return http.put(url, json={}, headers=headers)
    if path.endswith("/token") or path.startswith("/console"):
        return http.post(url, data={"grant_type": "client_credentials"}, headers=headers)
    return http.post(url, json={}, headers=headers)


def _denied(route: tuple[str, str], role: str, r) -> bool:  # type: ignore[no-untyped-def]
    if EXPECTED[route] is NODES_ONLY:  # a bearer token is no node signature
        return r.status_code == 401 and r.json()["error"] in (
            "MissingCredentials",
            "InvalidSignature",
        )
    if route[1].startswith("/console"):
        if role == "anonymous":
            return r.status_code == 303 and r.headers["location"] == "/console/login"
        return r.status_code == 403 and "RoleForbidden" in r.text
    if role == "anonymous":
        return r.status_code == 401 and r.json()["error"] == "MissingToken"
    return r.status_code == 403 and r.json()["error"] == "RoleForbidden"


def test_every_route_admits_exactly_its_roles(
    city: TestClient, callers: dict[str, Caller], browsers: dict[str, TestClient]
) -> None:
    wrong = []
    for route in sorted(sharing_routes(city)):
        method, path = route
        for role in ROLES:
            if path.startswith("/console"):
                r = _call(browsers[role], method, path, {})
            else:
                headers = callers[role].headers if role != "anonymous" else {}
                r = _call(city, method, path, headers)
            allowed = role in EXPECTED[route]
            if allowed == _denied(route, role, r) or r.status_code >= 500:
                wrong.append(f"{method} {path} as {role}: {r.status_code} {r.text[:120]}")
    assert wrong == []


def test_an_admin_cannot_mint_a_client_and_read_a_departments_data(
    city: TestClient, admin: Caller, consumer: Caller, provider: Caller
) -> None:
    made = admin.post("/sharing/v1/clients", json={"name": "后门", "department": "MZ"}).json()
    assert made["approved_at"] is None
    form = {"grant_type": "client_credentials", "client_id": made["client_id"],
            "client_secret": made["client_secret"]}  # fmt: skip
    r = city.post("/sharing/v1/token", data=form)
    assert r.status_code == 403 and r.json()["error"] == "ClientNotApproved"
    other = provider.post(f"/sharing/v1/clients/{made['client_id']}/approve")
    assert other.status_code == 404, "another department cannot approve it"
    ok = consumer.post(f"/sharing/v1/clients/{made['client_id']}/approve")
    assert ok.status_code == 200 and ok.json()["approved_by"].startswith("client:")
    assert city.post("/sharing/v1/token", data=form).status_code == 200
