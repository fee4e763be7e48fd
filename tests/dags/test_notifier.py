"""Airflow's side of alerting: a DAG run that failed where the hub recorded nothing reaches the
hub's alert channels; a red `alert` task (already told by the hub) sends nothing twice."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from exchange.core.runtime import Runtime
from tests.pipelines.alerts.receivers import webhook_receiver


def _fail(monkeypatch: pytest.MonkeyPatch, rt: Runtime, url: str, task_id: str) -> None:
    from exchange.pipelines.dagsupport import HubFailureNotifier

    monkeypatch.setenv("HUB_ENV", "test")
    monkeypatch.setenv("HUB_SECRET_KEY", rt.settings.secret_key.get_secret_value())
    monkeypatch.setenv("HUB_VAR_DIR", str(rt.settings.var_dir))
    monkeypatch.setenv("HUB_DATABASE_URL", rt.engine.url.render_as_string(False))
    monkeypatch.setenv("HUB_ALERTS__WEBHOOKS", json.dumps([{"url": url}]))
    context = {
        "ti": SimpleNamespace(task_id=task_id),
        "dag_run": SimpleNamespace(run_id="scheduled__2026-12-06T00:00:00+00:00"),
        "exception": TimeoutError("Timeout: task ran past execution_timeout"),
    }
    HubFailureNotifier("ops").notify(context)


def test_a_failure_the_hub_did_not_record_is_sent(
    clean_city: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as hook:
        _fail(monkeypatch, clean_city, hook.url, "check")
    (got,) = hook.received
    body = got.json
    assert (body["event"], body["system"], body["severity"]) == ("run_failed", "ops", "critical")
    assert body["subject"] == "dag:hub_ops"
    assert "at task check" in body["message"] and "execution_timeout" in body["message"]


def test_a_red_alert_task_is_not_sent_again(
    clean_city: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as hook:
        _fail(monkeypatch, clean_city, hook.url, "alert")
    assert hook.received == []
