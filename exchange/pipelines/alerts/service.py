"""Alert state and sending: each finding opened once, told again only when it changes, and
resolved when a run that checked it no longer finds it.

Only the latest run of a system (by the date it checked) moves the state: a backfill of an
old date neither reopens nor resolves anything. Sending happens after the state is committed;
what a channel accepted is written per channel, so a failed channel is retried on the next run
without the others hearing the news twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.runtime import Runtime
from exchange.pipelines import runs
from exchange.pipelines.alerts import repository as repo
from exchange.pipelines.alerts.channels import Channel, ChannelFailed, channels_of
from exchange.pipelines.alerts.models import AssuranceAlert
from exchange.pipelines.alerts.schemas import AlertEvent, Event
from exchange.pipelines.models import CheckFinding, CheckRun

log = logging.getLogger(__name__)
RANK = {"info": 0, "warning": 1, "critical": 2}
_NUMBER = re.compile(r"\d+(?:[.:]\d+)*")


class AlertNotFound(LookupError):
    pass


@dataclass
class Summary:
    opened: int = 0
    changed: int = 0
    resolved: int = 0
    sent: int = 0
    failed: int = 0
    skipped: bool = False


def fingerprint(severity: str, kind: str, message: str) -> str:
    """Ages, counts and times move with every run and are not news; severity and wording are."""
    text = f"{severity}|{kind}|{_NUMBER.sub('#', message)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _current(
    findings: list[CheckFinding], min_severity: str
) -> dict[tuple[str, str], CheckFinding]:
    out: dict[tuple[str, str], CheckFinding] = {}
    for f in findings:
        if RANK[f.severity] < RANK[min_severity]:
            continue
        key = (f.kind, f.subject)
        if key not in out or RANK[f.severity] > RANK[out[key].severity]:
            out[key] = f
    return out


def evaluate(session: Session, run: CheckRun, min_severity: str) -> Summary:
    """Move the alert state of `run`'s system to what `run` found."""
    summary = Summary()
    now = utcnow()
    current = _current(list(runs.findings(session, run.id)), min_severity)
    existing = {(a.kind, a.subject): a for a in repo.alerts_of(session, run.system)}
    for key, f in current.items():
        fp = fingerprint(f.severity, f.kind, f.message)
        a = existing.get(key)
        if a is None:
            a = AssuranceAlert(
                system=run.system,
                kind=f.kind,
                subject=f.subject,
                state="open",
                fingerprint=fp,
                notified={},
                opened_at=now,
                changed_at=now,
            )
            session.add(a)
            summary.opened += 1
        elif a.state != "open":
            a.state, a.opened_at, a.changed_at, a.resolved_at = "open", now, now, None
            a.acknowledged_by = a.acknowledged_at = None  # a new occurrence, not the old one
            summary.opened += 1
        elif a.fingerprint != fp:
            a.changed_at = now
            summary.changed += 1
        a.check, a.severity, a.message, a.detail = f.check, f.severity, f.message, f.detail
        a.fingerprint, a.last_run_id = fp, run.id
    # A check that crashed or could not run says nothing about what it used to find.
    checked = {name for name, c in run.checks.items() if c.get("status") == "ok"}
    for key, a in existing.items():
        if a.state == "open" and key not in current and a.check in checked:
            a.state, a.resolved_at, a.last_run_id = "resolved", now, run.id
            summary.resolved += 1
    session.flush()
    return summary


def _event_for(a: AssuranceAlert, told: str | None) -> Event | None:
    if a.state == "open":
        if told is None or told.startswith("resolved:"):
            return "opened"
        return "changed"
    # resolved: news only to a channel that was told it was open
    return "resolved" if told is not None and told.startswith("open:") else None


def _event(a: AssuranceAlert, event: Event, node: str) -> AlertEvent:
    return AlertEvent(
        event=event,
        node=node,
        system=a.system,
        kind=a.kind,
        subject=a.subject,
        severity=a.severity,
        message=a.message,
        at=a.resolved_at if event == "resolved" and a.resolved_at else a.changed_at,
        detail=dict(a.detail),
        alert_id=a.id,
    )


def _send(channels: list[Channel], session: Session, system: str, node: str, s: Summary) -> None:
    for a in repo.alerts_of(session, system):
        wanted = f"{a.state}:{a.fingerprint}"
        told = dict(a.notified)
        for channel in channels:
            if told.get(channel.name) == wanted:
                continue
            event = _event_for(a, told.get(channel.name))
            if event is not None:
                try:
                    channel.send(_event(a, event, node))
                except ChannelFailed as exc:
                    log.warning(
                        "alert not sent", extra={"channel": channel.name, "error": str(exc)}
                    )
                    s.failed += 1
                    continue
                s.sent += 1
            told[channel.name] = wanted
        a.notified = told


def notify(rt: Runtime, run_id: uuid.UUID) -> Summary:
    """Update the alert state from a finished run and tell every channel what is new.

    The state commits first; each alert's per-channel record commits after its sends, so a
    crash between them repeats a message (at least once) but never loses one."""
    settings = rt.settings.alerts
    with rt.sessions() as session, session.begin():
        run = runs.get_run(session, run_id)
        latest = runs.latest_run(session, run.system)
        if run.finished_at is None or latest is None or latest.id != run.id:
            return Summary(skipped=True)
        summary = evaluate(session, run, settings.min_severity)
    channels = channels_of(settings)
    if channels:
        with rt.sessions() as session, session.begin():
            _send(channels, session, run.system, rt.settings.node_code, summary)
    return summary


def notify_failure(rt: Runtime, system: str, subject: str, message: str) -> int:
    """Airflow's own failure (a task crashed, timed out): no stored finding, sent as is."""
    event = AlertEvent(
        event="run_failed",
        node=rt.settings.node_code,
        system=system,
        kind="run.failed",
        subject=subject,
        severity="critical",
        message=message,
        at=utcnow(),
    )
    sent = 0
    for channel in channels_of(rt.settings.alerts):
        try:
            channel.send(event)
            sent += 1
        except ChannelFailed as exc:
            log.warning("alert not sent", extra={"channel": channel.name, "error": str(exc)})
    return sent


def acknowledge(session: Session, alert_id: int, by: str) -> AssuranceAlert:
    a = repo.get(session, alert_id)
    if a is None:
        raise AlertNotFound(alert_id)
    a.acknowledged_by, a.acknowledged_at = by, utcnow()
    session.flush()
    return a


def assign(session: Session, alert_id: int, to: str | None) -> AssuranceAlert:
    a = repo.get(session, alert_id)
    if a is None:
        raise AlertNotFound(alert_id)
    a.assigned_to = to or None
    session.flush()
    return a
