"""The ops page and /metrics show what the ops run stored, read back from the database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from exchange.app import create_app
from exchange.core.runtime import Runtime
from exchange.pipelines import service
from exchange.platforms.sharing.access.principal import Role
from tests.pipelines.city import Planted
from tests.platforms.sharing.builders import console_login, make_user


def test_ops_page_and_metrics_show_the_latest_ops_run(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, planted = planted_city
    service.run_system(rt, "ops", "page-ops-1")
    service.run_system(rt, "ops", "page-ops-2")
    with rt.sessions() as session:
        operator = make_user(session, rt.settings, Role.operator, department=None)
    with TestClient(create_app(rt.settings, runtime=rt)) as client:
        page = console_login(client, operator).get("/console/ops")
        metrics = client.get("/metrics")
    assert page.status_code == 200
    assert "connector.silent" in page.text and planted.stale_resource in page.text
    assert page.text.count("<polyline") >= 2  # database and payload store sizes over two runs
    body = metrics.text
    assert f'hub_ops_freshness_age_days{{resource="{planted.stale_resource}"}}' in body
    assert 'hub_ops_connectors_silence_days{connector="' in body
    assert "hub_ops_storage_database_bytes " in body
    assert 'hub_assurance_findings{system="ops",severity="critical"}' in body


def test_ops_page_is_for_signed_in_operators_only(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, _ = planted_city
    with rt.sessions() as session:
        auditor = make_user(session, rt.settings, Role.auditor, department=None)
    with TestClient(create_app(rt.settings, runtime=rt), follow_redirects=False) as client:
        anonymous = client.get("/console/ops")
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"
        assert console_login(client, auditor).get("/console/ops").status_code == 403
