"""Operations endpoints: liveness, readiness (database + payload store) and Prometheus metrics."""

from __future__ import annotations

import datetime as dt
import logging
import time

import httpx
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from exchange.core import metrics, ports
from exchange.core.db import utcnow
from exchange.core.deps import RuntimeDep
from exchange.core.migrate import current_revision, head_revision, schema_serves_this_code
from exchange.core.runtime import Runtime

router = APIRouter(tags=["operations"])
log = logging.getLogger("hub.health")


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The node can serve: database and payload store reachable (503 if not); "
    "degraded (200) while the parent is unreachable or the relay backlog is past its bound",
)
def readyz(rt: RuntimeDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = current_revision(conn)
        head = head_revision()
        checks["database"] = (
            "ok"
            if schema_serves_this_code(revision)
            else f"schema at {revision}, code at {head}: hub db upgrade"
        )
    except Exception as exc:  # any driver error means "not ready", reported, not raised
        checks["database"] = f"unreachable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    try:
        rt.store.check()
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"unavailable: {type(exc).__name__}: {exc}"
    ready = all(v == "ok" for v in checks.values())
    if not ready:
        log.warning("not ready", extra={"checks": checks})
        return JSONResponse({"status": "not ready", "checks": checks}, status_code=503)
    degraded = [why for why in (_relay_backlog(rt), _parent_unreachable(rt)) if why]
    body: dict[str, object] = {"status": "degraded" if degraded else "ready", "checks": checks}
    if degraded:
        body["degraded"] = degraded  # still serving: a load balancer keeps sending traffic
    return JSONResponse(body, status_code=200)


def _relay_backlog(rt: Runtime) -> str | None:
    query = text(
        "SELECT count(*), min(created_at) FROM delivery "
        "WHERE state = 'pending' AND node_code IS NOT NULL"
    )
    try:
        with rt.sessions() as session:
            count, oldest = session.execute(query).one()
    except Exception:  # the database check above reports the database itself
        return None
    if isinstance(oldest, str):  # SQLite returns text
        oldest = dt.datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    age = utcnow() - oldest if oldest is not None else dt.timedelta(0)
    bound = dt.timedelta(seconds=rt.settings.relay_backlog_max_age_s)
    if count > rt.settings.relay_backlog_max or age > bound:
        return f"relay backlog: {count} deliveries pending, oldest for {age} (bound {bound})"
    return None


_parent_probe: dict[str, tuple[float, str | None]] = {}
PARENT_PROBE_EVERY_S = 30.0
PARENT_PROBE_TIMEOUT_S = 2.0


def _parent_unreachable(rt: Runtime) -> str | None:
    """The parent's /healthz, asked at most every PARENT_PROBE_EVERY_S (readyz is polled often)."""
    parent = rt.settings.parent
    if parent is None:
        return None
    url = parent.url.rstrip("/") + "/healthz"
    asked_at, why = _parent_probe.get(url, (0.0, None))
    if time.monotonic() - asked_at < PARENT_PROBE_EVERY_S:
        return why
    try:
        answer = httpx.get(url, timeout=PARENT_PROBE_TIMEOUT_S)
        why = None if answer.status_code == 200 else f"answered {answer.status_code}"
    except httpx.HTTPError as exc:
        why = type(exc).__name__
    why = None if why is None else f"parent {parent.code} unreachable at {url}: {why}"
    _parent_probe[url] = (time.monotonic(), why)
    return why


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def prometheus(rt: RuntimeDep) -> Response:
    body, content_type = metrics.render()
    # The assurance pipelines' latest stored gauges (freshness, backlog, sizes, findings...).
    stored = ports.stored_metrics()
    try:
        with rt.sessions() as session:
            body += stored(session).encode()
    except Exception as exc:  # a scrape still returns the process metrics if the DB is down
        log.warning("assurance metrics unavailable", extra={"error": type(exc).__name__})
    return Response(body, media_type=content_type)
