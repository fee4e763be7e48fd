"""Operations: is data arriving, moving and stored as it should?

Each check returns findings (what an operator must act on) and gauges (what the ops page
charts and /metrics exports): freshness against the declared update cycle, connector
heartbeats, the relay outbox, the neighbouring nodes, storage, and the quarantine.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from exchange.core import signing
from exchange.core.db import utcnow
from exchange.core.resource_schema import UpdateCycle
from exchange.core.runtime import Runtime
from exchange.core.settings import NodeRef
from exchange.directory.models import Node, Resource
from exchange.pipelines import repository as repo
from exchange.pipelines.runs import CheckResult, Gauge, Issue, Severity, guard
from exchange.platforms.exchange.clock import service as clock

SILENT_WARNING = dt.timedelta(days=1)
SILENT_CRITICAL = dt.timedelta(days=7)
BACKLOG_WARNING = dt.timedelta(hours=1)
BACKLOG_CRITICAL = dt.timedelta(days=1)
PROBE_TIMEOUT_S = 3.0
RETRY_ALARM_ATTEMPTS = 8  # about four minutes of backoff (1, 2, 4 ... s, capped)
CLOCK_WARN_S = 60.0


def _days(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 86_400, 2)


def check_freshness(rt: Runtime, now: dt.datetime | None = None) -> CheckResult:
    now = now or utcnow()
    result = CheckResult("freshness")
    with rt.sessions() as session:
        entries = list(repo.catalogue(session))
    for r in entries:
        with guard(result, r.code):
            _freshness_of(result, r, now)
    return result


def _freshness_of(result: CheckResult, r: Resource, now: dt.datetime) -> None:
    max_age = UpdateCycle(r.update_cycle).max_age_days
    if r.last_updated_at is None:
        result.issues.append(
            Issue("freshness.never", "info", r.code, f"{r.code} has received no data yet")
        )
        return
    age = _days(now - r.last_updated_at)
    result.gauges.append(Gauge("age_days", age, {"resource": r.code}))
    overdue = max_age is not None and age > max_age
    result.gauges.append(Gauge("overdue", 1.0 if overdue else 0.0, {"resource": r.code}))
    if max_age is None or age <= max_age:
        return
    severity: Severity = "critical" if age > 2 * max_age else "warning"
    result.issues.append(
        Issue(
            "freshness.overdue",
            severity,
            r.code,
            f"{r.code} was last updated {age:g} days ago; "
            f"its {r.update_cycle} cycle allows {max_age:g}",
            {"age_days": age, "max_age_days": max_age},
        )
    )


def check_connectors(rt: Runtime, now: dt.datetime | None = None) -> CheckResult:
    now = now or utcnow()
    result = CheckResult("connectors")
    with rt.sessions() as session:
        rows = repo.active_connectors(session)
    for c, dept in rows:
        label = {"connector": str(c.id), "department": dept}
        seen = c.last_seen_at or c.created_at  # a new connector is given a day to call in
        silence = now - seen
        result.gauges.append(Gauge("silence_days", _days(silence), label))
        if c.last_push_at is not None:
            result.gauges.append(Gauge("since_push_days", _days(now - c.last_push_at), label))
        if silence <= SILENT_WARNING:
            continue
        severity: Severity = "critical" if silence > SILENT_CRITICAL else "warning"
        heard = (
            f"last heard from {c.last_seen_at:%Y-%m-%d %H:%M} UTC"
            if c.last_seen_at
            else "never heard from"
        )
        result.issues.append(
            Issue(
                "connector.silent",
                severity,
                f"connector:{c.id}",
                f"{dept} connector {c.name} is {heard} ({_days(silence):g} days)",
                {
                    "department": dept,
                    "last_push_at": str(c.last_push_at) if c.last_push_at else None,
                },
            )
        )
    return result


def check_relay(rt: Runtime, now: dt.datetime | None = None) -> CheckResult:
    now = now or utcnow()
    result = CheckResult("relay")
    with rt.sessions() as session:
        rows = repo.pending_by_destination(session)
    for dest, count, oldest in rows:
        oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.UTC)
        age = now - oldest_at
        result.gauges.append(Gauge("backlog", float(count), {"destination": str(dest)}))
        result.gauges.append(
            Gauge(
                "oldest_pending_hours",
                round(age.total_seconds() / 3600, 2),
                {"destination": str(dest)},
            )
        )
        if age > BACKLOG_WARNING:
            severity: Severity = "critical" if age > BACKLOG_CRITICAL else "warning"
            result.issues.append(
                Issue(
                    "relay.backlog",
                    severity,
                    f"destination:{dest}",
                    f"{count} deliveries to {dest} pending, oldest for {age}",
                )
            )
    # Every neighbour has its series even with nothing pending: an alert rule over them can
    # tell "no backlog" from "no data".
    pending = {str(dest) for dest, _, _ in rows}
    for n in ([rt.settings.parent] if rt.settings.parent else []) + list(rt.settings.children):
        if n.code not in pending:
            result.gauges.append(Gauge("backlog", 0.0, {"destination": n.code}))
            result.gauges.append(Gauge("oldest_pending_hours", 0.0, {"destination": n.code}))
    _check_failing_deliveries(rt, result)
    return result


def _check_failing_deliveries(rt: Runtime, result: CheckResult) -> None:
    """Refused deliveries (critical: the batch stops here until an operator acts) and ones the
    next hop keeps turning away (retried, but alarmed after RETRY_ALARM_ATTEMPTS)."""
    with rt.sessions() as session:
        failing = repo.failing_deliveries(session, RETRY_ALARM_ATTEMPTS)
    rejected = [d for d in failing if d.state == "rejected"]
    result.gauges.append(Gauge("rejected", float(len(rejected))))
    for d in failing:
        if d.state == "rejected":
            code, what = "relay.rejected", f"refused by {d.node_code}; after fixing the cause: "
            what += f"`hub delivery retry {d.id}`"
        else:
            code, what = "relay.retrying", f"{d.node_code} refused {d.attempts} attempts"
        result.issues.append(
            Issue(
                code,
                "critical",
                f"delivery:{d.id}",
                f"batch {d.batch_id} ({d.resource_code}) {what}: {d.last_error}",
                {"batch": str(d.batch_id), "node": d.node_code, "attempts": d.attempts},
            )
        )


def check_neighbours(rt: Runtime) -> CheckResult:
    """GET /healthz of the parent and every child this node is configured with."""
    result = CheckResult("neighbours")
    neighbours = ([rt.settings.parent] if rt.settings.parent else []) + list(rt.settings.children)
    with httpx.Client(timeout=PROBE_TIMEOUT_S) as client:
        for n in neighbours:
            url = n.url.rstrip("/") + "/healthz"
            sent_at = signing.now()
            try:
                response = client.get(url)
                up, why = response.status_code == 200, f"answered {response.status_code}"
            except httpx.HTTPError as exc:
                up, why = False, f"{type(exc).__name__}"
            else:
                # The signed handshake first: an offset a neighbour signed, for this call.
                # The X-Hub-Time header of the health answer is the fallback (unsigned).
                reading = clock.handshake(rt, _with_key(rt, n), client)
                offset = reading.offset_s
                if offset is None:
                    offset = signing.clock_offset(response.headers, sent_at, signing.now())
                if offset is not None:
                    _check_clock(result, n.code, offset, signed=reading.offset_s is not None)
            result.gauges.append(Gauge("up", 1.0 if up else 0.0, {"node": n.code}))
            if not up:
                result.issues.append(
                    Issue("node.unreachable", "critical", f"node:{n.code}", f"{url} {why}")
                )
    return result


def _with_key(rt: Runtime, n: NodeRef) -> NodeRef:
    """The neighbour with the key to verify its clock answer: configured, else the directory's."""
    if n.public_key:
        return n
    with rt.sessions() as session:
        known = session.get(Node, n.code)
    return n.model_copy(update={"public_key": known.public_key if known else None})


def _check_clock(result: CheckResult, node: str, offset: float, *, signed: bool = False) -> None:
    result.gauges.append(Gauge("clock_offset_s", offset, {"node": node}))
    if abs(offset) <= CLOCK_WARN_S:
        return
    limit = signing.MAX_CLOCK_SKEW_S
    severity: Severity = "critical" if abs(offset) > limit else "warning"
    result.issues.append(
        Issue(
            "node.clock_skew",
            severity,
            f"node:{node}",
            f"the clock of {node} is {offset:+.0f} s from ours; signed calls fail beyond "
            f"{limit} s: keep both clocks in sync (NTP)",
            {"offset_s": offset, "signed": signed},
        )
    )


def check_storage(rt: Runtime) -> CheckResult:
    result = CheckResult("storage")
    url = make_url(rt.engine.url)
    with rt.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            size = repo.database_bytes(conn)
        else:
            size = float(Path(url.database or "").stat().st_size) if url.database else 0.0
    result.gauges.append(Gauge("database_bytes", size))
    result.gauges.append(Gauge("payload_store_bytes", float(rt.store.total_size())))
    return result


def check_quarantine(rt: Runtime, now: dt.datetime | None = None) -> CheckResult:
    now = now or utcnow()
    result = CheckResult("quarantine")
    since = now - dt.timedelta(days=1)
    with rt.sessions() as session:
        rows = repo.quarantined_by_resource(session, since)
    for resource, total, recent in rows:
        result.gauges.append(Gauge("batches", float(total), {"resource": resource}))
        if recent:
            result.issues.append(
                Issue(
                    "quarantine.recent",
                    "info",
                    resource,
                    f"{recent} batches of {resource} quarantined in the last day",
                )
            )
    return result


CHECKS = ("freshness", "connectors", "relay", "neighbours", "storage", "quarantine")


def run_check(rt: Runtime, name: str) -> CheckResult:
    match name:
        case "freshness":
            return check_freshness(rt)
        case "connectors":
            return check_connectors(rt)
        case "relay":
            return check_relay(rt)
        case "neighbours":
            return check_neighbours(rt)
        case "storage":
            return check_storage(rt)
        case "quarantine":
            return check_quarantine(rt)
    raise ValueError(f"unknown ops check {name!r}; one of {CHECKS}")
