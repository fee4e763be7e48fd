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


def test_an_operator_acknowledges_and_assigns_an_open_alert_from_the_ops_page(
    planted_city: tuple[Runtime, Planted],
) -> None:
    import re

    from sqlalchemy import select

    from exchange.pipelines.alerts.models import AssuranceAlert

    rt, planted = planted_city
    service.run_system(rt, "ops", "page-alerts")
    with rt.sessions() as session:
        operator = make_user(session, rt.settings, Role.operator, department=None)
        stale = session.scalars(
            select(AssuranceAlert).where(
                AssuranceAlert.kind == "freshness.overdue",
                AssuranceAlert.subject == planted.stale_resource,
            )
        ).one()
    with TestClient(create_app(rt.settings, runtime=rt), follow_redirects=False) as client:
        signed_in = console_login(client, operator)
        page = signed_in.get("/console/ops").text
        assert f'id="alert-{stale.id}"' in page
        assert f'<a href="/datasets/{planted.stale_resource}">' in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        base = f"/console/ops/alerts/{stale.id}"
        assert signed_in.post(base + "/ack", data={"csrf": "wrong"}).status_code == 403
        acked = signed_in.post(base + "/ack", data={"csrf": csrf})
        assert acked.status_code == 303 and acked.headers["location"].endswith(f"#alert-{stale.id}")
        assigned = signed_in.post(base + "/assign", data={"csrf": csrf, "to": "数据局 王工"})
        assert assigned.status_code == 303
        too_long = signed_in.post(base + "/assign", data={"csrf": csrf, "to": "x" * 121})
        assert too_long.status_code == 422
        missing = signed_in.post("/console/ops/alerts/999999999/ack", data={"csrf": csrf})
        assert missing.status_code == 404
        after = signed_in.get("/console/ops").text
    with rt.sessions() as session:
        row = session.get(AssuranceAlert, stale.id)
        assert row is not None
        assert (row.acknowledged_by, row.assigned_to) == (operator, "数据局 王工")
    assert "数据局 王工" in after
