"""The ops page and /metrics show what the ops run stored, read back from the database."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient

from exchange.app import create_app
from exchange.core.runtime import Runtime
from exchange.core.settings import Environment
from exchange.pipelines import service
from tests.pipelines.city import Planted


def test_ops_page_and_metrics_show_the_latest_ops_run(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, planted = planted_city
    service.run_system(rt, "ops", "page-ops-1")
    service.run_system(rt, "ops", "page-ops-2")
    with TestClient(create_app(rt.settings, runtime=rt)) as client:
        page = client.get("/console/ops")
        metrics = client.get("/metrics")
    assert page.status_code == 200
    assert "connector.silent" in page.text and planted.stale_resource in page.text
    assert page.text.count("<polyline") >= 2  # database and payload store sizes over two runs
    body = metrics.text
    assert f'hub_ops_freshness_age_days{{resource="{planted.stale_resource}"}}' in body
    assert 'hub_ops_connectors_silence_days{connector="' in body
    assert "hub_ops_storage_database_bytes " in body
    assert 'hub_assurance_findings{system="ops",severity="critical"}' in body


def test_ops_page_is_refused_in_production_until_the_console_login_is_wired(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, _ = planted_city
    prod = rt.settings.model_copy(update={"env": Environment.production})
    with TestClient(create_app(prod, runtime=dataclasses.replace(rt, settings=prod))) as client:
        response = client.get("/console/ops")
    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"
