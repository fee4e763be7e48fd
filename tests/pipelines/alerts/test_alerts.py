"""Alerts reach a webhook and a mailbox once per change: opened, changed, resolved."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from exchange.core.runtime import Runtime
from exchange.core.settings import AlertSettings
from exchange.pipelines import runs, service
from exchange.pipelines.alerts import channels
from exchange.pipelines.alerts import service as alerts
from exchange.pipelines.runs import CheckResult, Issue
from tests.pipelines.alerts.receivers import Mailbox, Webhook, smtp_sink, webhook_receiver

SECRET = "alert-signing-secret"
STALE = Issue(
    "freshness.overdue", "critical", "geo_address", "geo_address was last updated 9.5 days ago"
)


@pytest.fixture
def receivers() -> Iterator[tuple[Webhook, Mailbox]]:
    with webhook_receiver() as hook, smtp_sink() as box:
        yield hook, box


@pytest.fixture
def alerting(runtime: Runtime, receivers: tuple[Webhook, Mailbox]) -> Runtime:
    hook, box = receivers
    config = AlertSettings.model_validate(
        {
            "webhooks": [{"url": hook.url, "secret": SECRET}],
            "smtp": {
                "host": "127.0.0.1",
                "port": box.port,
                "sender": "hub@hz.example",
                "recipients": ["duty@hz.example"],
            },
        }
    )
    return dataclasses.replace(
        runtime, settings=runtime.settings.model_copy(update={"alerts": config})
    )


def _ops_run(rt: Runtime, key: str, *issues: Issue) -> alerts.Summary:
    """An ops run whose freshness check found `issues` (and nothing else ran)."""
    with rt.sessions() as session, session.begin():
        run = runs.open_run(session, "ops", key, "cli")
        runs.record(session, run, CheckResult("freshness", issues=list(issues)))
        runs.finish(session, run)
        run_id = run.id
    return alerts.notify(rt, run_id)


def test_an_alert_is_sent_once_when_opened_and_once_when_resolved(
    alerting: Runtime, receivers: tuple[Webhook, Mailbox]
) -> None:
    hook, box = receivers
    first = _ops_run(alerting, "2026-12-01T00:00:00+00:00", STALE)
    assert (first.opened, first.sent, first.failed) == (1, 2, 0)
    # the age moved, nothing else did: not news
    older = dataclasses.replace(STALE, message="geo_address was last updated 9.75 days ago")
    assert _ops_run(alerting, "2026-12-01T00:15:00+00:00", older).sent == 0
    assert [r.json["event"] for r in hook.received] == ["opened"]
    assert len(box.messages) == 1
    assert box.messages[0]["Subject"].startswith("[OPEN] critical ops: freshness.overdue")

    cleared = _ops_run(alerting, "2026-12-01T00:30:00+00:00")
    assert (cleared.resolved, cleared.sent) == (1, 2)
    assert _ops_run(alerting, "2026-12-01T00:45:00+00:00").sent == 0
    assert [r.json["event"] for r in hook.received] == ["opened", "resolved"]
    assert [m["Subject"][:10] for m in box.messages] == ["[OPEN] cri", "[RESOLVED]"]
    body = hook.received[0].json
    assert (body["subject"], body["severity"], body["node"]) == (
        "geo_address",
        "critical",
        alerting.settings.node_code,
    )


def test_the_webhook_signature_verifies_with_the_shared_secret(
    alerting: Runtime, receivers: tuple[Webhook, Mailbox]
) -> None:
    hook, _ = receivers
    _ops_run(alerting, "2026-12-02T00:00:00+00:00", STALE)
    (got,) = hook.received
    ts = got.headers[channels.TIMESTAMP_HEADER]
    assert got.headers[channels.SIGNATURE_HEADER] == channels.sign(SECRET, ts, got.body)
    assert got.headers[channels.SIGNATURE_HEADER] != channels.sign("other", ts, got.body)


def test_a_change_of_severity_is_sent_again(
    alerting: Runtime, receivers: tuple[Webhook, Mailbox]
) -> None:
    hook, _ = receivers
    warning = dataclasses.replace(STALE, severity="warning")
    config = alerting.settings.alerts.model_copy(update={"min_severity": "warning"})
    rt = dataclasses.replace(
        alerting, settings=alerting.settings.model_copy(update={"alerts": config})
    )
    _ops_run(rt, "2026-12-03T00:00:00+00:00", warning)
    changed = _ops_run(rt, "2026-12-03T00:15:00+00:00", STALE)
    assert changed.changed == 1
    assert [(r.json["event"], r.json["severity"]) for r in hook.received] == [
        ("opened", "warning"),
        ("changed", "critical"),
    ]


def test_a_failed_channel_is_retried_next_run_and_the_others_not_told_twice(
    alerting: Runtime, receivers: tuple[Webhook, Mailbox]
) -> None:
    hook, box = receivers
    hook.fail_next = 1
    first = _ops_run(alerting, "2026-12-04T00:00:00+00:00", STALE)
    assert (first.sent, first.failed) == (1, 1)  # the mail went, the webhook answered 500
    second = _ops_run(alerting, "2026-12-04T00:15:00+00:00", STALE)
    assert (second.sent, second.failed) == (1, 0)
    assert [r.json["event"] for r in hook.received] == ["opened"]
    assert len(box.messages) == 1


def test_a_backfill_of_an_older_date_moves_no_alert(
    alerting: Runtime, receivers: tuple[Webhook, Mailbox]
) -> None:
    hook, _ = receivers
    _ops_run(alerting, "2026-12-05T00:00:00+00:00", STALE)
    backfill = _ops_run(alerting, "2026-11-20T00:00:00+00:00")  # clean, but not the latest
    assert backfill.skipped and backfill.resolved == 0
    with alerting.sessions() as session:
        latest = runs.latest_run(session, "ops")
        assert latest is not None and latest.run_key == "2026-12-05T00:00:00+00:00"
    assert [r.json["event"] for r in hook.received] == ["opened"]


def test_a_crashed_check_does_not_resolve_what_it_found_before(
    alerting: Runtime, receivers: tuple[Webhook, Mailbox]
) -> None:
    hook, _ = receivers
    _ops_run(alerting, "2026-12-06T00:00:00+00:00", STALE)
    with alerting.sessions() as session, session.begin():
        run = runs.open_run(session, "ops", "2026-12-06T00:15:00+00:00", "cli")
        runs.record(session, run, runs.crashed("freshness", ValueError("boom")))
        runs.finish(session, run)
        run_id = run.id
    summary = alerts.notify(alerting, run_id)
    assert summary.resolved == 0 and summary.opened == 1  # the crash itself alerts
    events = [(r.json["event"], r.json["kind"]) for r in hook.received]
    assert events == [("opened", "freshness.overdue"), ("opened", "check.error")]


def test_a_robot_webhook_gets_a_markdown_message_signed_in_its_url(
    runtime: Runtime,
) -> None:
    with webhook_receiver() as hook:
        config = AlertSettings.model_validate(
            {"webhooks": [{"url": hook.url + "?access_token=t", "shape": "robot", "secret": "s"}]}
        )
        rt = dataclasses.replace(
            runtime, settings=runtime.settings.model_copy(update={"alerts": config})
        )
        _ops_run(rt, "2026-12-07T00:00:00+00:00", STALE)
    (got,) = hook.received
    assert got.json["msgtype"] == "markdown"
    assert "freshness.overdue" in got.json["markdown"]["title"]
    assert "access_token=t&timestamp=" in got.path and "&sign=" in got.path


def test_no_channel_configured_keeps_the_news_for_when_one_is(
    runtime: Runtime, receivers: tuple[Webhook, Mailbox], alerting: Runtime
) -> None:
    hook, _ = receivers
    assert _ops_run(runtime, "2026-12-08T00:00:00+00:00", STALE).sent == 0
    assert _ops_run(alerting, "2026-12-08T00:15:00+00:00", STALE).sent == 2
    assert [r.json["event"] for r in hook.received] == ["opened"]


def test_alert_run_names_the_critical_findings(runtime: Runtime) -> None:
    with runtime.sessions() as session, session.begin():
        run = runs.open_run(session, "ops", "2026-12-09T00:00:00+00:00", "airflow")
        runs.record(session, run, CheckResult("freshness", issues=[STALE]))
        runs.finish(session, run)
        run_id = run.id
    outcome = service.alert_run(runtime, run_id)
    assert outcome.critical == 1 and outcome.status == "findings"
    assert "freshness.overdue on geo_address" in outcome.headline
    assert outcome.counts == {"info": 0, "warning": 0, "critical": 1}


def test_when_a_run_checks_is_its_logical_date() -> None:
    assert runs.as_of_for("2026-11-02T00:00:00+00:00") == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
