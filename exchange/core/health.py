"""Operations endpoints: liveness, readiness (database + payload store) and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from exchange.core import metrics, ports
from exchange.core.deps import RuntimeDep
from exchange.core.migrate import current_revision, head_revision, schema_serves_this_code

router = APIRouter(tags=["operations"])
log = logging.getLogger("hub.health")


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The node can serve: database and payload store reachable")
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
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


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
