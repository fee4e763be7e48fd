"""Security: what the public can reach, who still reads with expired rights, and the audit log.

Four checks, each a function of the runtime returning a `CheckResult`:
* `pii`: personal data in open datasets (whole tables) and in sampled public responses;
* `exposure`: no 不予共享 or 禁止开放 resource is reachable through the open-data API;
* `access`: grants used after they expired or were revoked, dormant credentials, consumers
  reading far above their own baseline (tables of the sharing platform, when present);
* `audit_chain`: the sharing platform's own verifier walks the hash chain end to end.
The access and audit checks read the sharing platform's tables (`sharing_grant`,
`sharing_client`, `audit_entry`); a node without them reports the checks as not available.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import inspect, select, text

from exchange.core.db import utcnow
from exchange.core.resource_schema import OpenClass, ShareClass
from exchange.core.runtime import Runtime
from exchange.directory.models import Resource
from exchange.pipelines import pii
from exchange.pipelines.runs import CheckResult, Gauge, Issue

DORMANT_DAYS = 90
SURGE_FACTOR = 10.0  # today's rows against the median day of the four weeks before
SURGE_MIN_ROWS = 1_000
RESPONSE_SAMPLE_ROWS = 100

PublicClient = Any  # httpx.Client or fastapi.testclient.TestClient: .get(path) -> Response


@contextmanager
def public_client(rt: Runtime, base_url: str | None = None) -> Iterator[PublicClient]:
    """The open-data API as the public sees it: a live node at `base_url`, or this node's app
    in process (no network, no relay worker)."""
    if base_url:
        import httpx

        with httpx.Client(base_url=base_url, timeout=10) as client:
            yield client
        return
    from fastapi.testclient import TestClient

    from exchange.app import create_app

    settings = rt.settings.model_copy(update={"relay_interval_s": 0})
    with TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False) as client:
        yield client


def _open_and_closed(rt: Runtime) -> tuple[list[str], list[Resource]]:
    with rt.sessions() as session:
        entries = list(session.scalars(select(Resource).order_by(Resource.code)))
    open_codes = [r.code for r in entries if r.open_class == OpenClass.open.value]
    hidden = [
        r
        for r in entries
        if r.open_class == OpenClass.closed.value or r.share_class == ShareClass.none.value
    ]
    return open_codes, hidden


def check_pii(rt: Runtime, client: PublicClient | None = None) -> CheckResult:
    result = CheckResult("pii")
    open_codes, _ = _open_and_closed(rt)
    tables = set(inspect(rt.engine).get_table_names())
    for code in open_codes:
        schema = rt.schemas.get(code)
        if schema is None or f"ds_{code}" not in tables:
            continue
        for leak in pii.scan_dataset(rt.engine, schema):
            severity, what = pii.KINDS[leak.kind]
            result.issues.append(
                Issue(
                    kind=leak.kind,
                    severity=severity,  # type: ignore[arg-type]
                    subject=f"{code}.{leak.column}",
                    message=f"open dataset {code}: {leak.count} values of {leak.column} "
                    f"hold {what}",
                    detail={"count": leak.count, "example": leak.example, "key": leak.key},
                )
            )
    if client is not None:
        result.issues += _scan_responses(client, open_codes)
    result.gauges.append(Gauge("datasets_scanned", float(len(open_codes))))
    return result


def _response_paths(codes: list[str]) -> Iterator[str]:
    yield "/api/3/action/package_list"
    for code in codes:
        yield f"/api/3/action/package_show?id={code}"
        yield f"/api/3/action/datastore_search?resource_id={code}&limit={RESPONSE_SAMPLE_ROWS}"


def _scan_responses(client: PublicClient, codes: list[str]) -> list[Issue]:
    issues = []
    for path in _response_paths(codes):
        response = client.get(path)
        if response.status_code != 200:
            continue  # an action this node does not serve has nothing to leak
        hits: dict[str, list[str]] = {}
        for kind, value in pii.find(response.text):
            hits.setdefault(kind, []).append(value)
        for kind, values in hits.items():
            severity, what = pii.KINDS[kind]
            issues.append(
                Issue(
                    kind=kind.replace("pii.", "pii.response."),
                    severity=severity,  # type: ignore[arg-type]
                    subject=path.split("?")[0]
                    + ("?" + path.split("?")[1].split("&")[0] if "?" in path else ""),
                    message=f"public response {path} contains {len(values)} × {what}",
                    detail={"example": pii.mask(kind, values[0])},
                )
            )
    return issues


def check_exposure(rt: Runtime, client: PublicClient) -> CheckResult:
    """Every hidden resource must be absent from listings and refused by every data action."""
    result = CheckResult("exposure")
    _, hidden = _open_and_closed(rt)
    listed = client.get("/api/3/action/package_list")
    names = set(listed.json().get("result") or []) if listed.status_code == 200 else set()
    for r in hidden:
        why = "不予共享" if r.share_class == ShareClass.none.value else "禁止开放"
        reached = [f"package_list lists {r.code}"] if r.code in names else []
        for path in (
            f"/api/3/action/package_show?id={r.code}",
            f"/api/3/action/datastore_search?resource_id={r.code}",
            f"/datasets/{r.code}",
        ):
            response = client.get(path)
            if response.status_code == 200 and _looks_served(response):
                reached.append(f"GET {path} answered 200")
        if reached:
            result.issues.append(
                Issue(
                    kind="exposure.reachable",
                    severity="critical",
                    subject=r.code,
                    message=f"{r.code} is {why} but reachable publicly: " + "; ".join(reached),
                    detail={"reached": reached},
                )
            )
    result.gauges.append(Gauge("hidden_resources", float(len(hidden))))
    return result


def _looks_served(response: Any) -> bool:
    if "json" not in response.headers.get("content-type", ""):
        return True
    body = response.json()
    return not (isinstance(body, dict) and body.get("success") is False)


def _tables(rt: Runtime) -> set[str]:
    return set(inspect(rt.engine).get_table_names())


def check_access(rt: Runtime, now: dt.datetime | None = None) -> CheckResult:
    result = CheckResult("access")
    needed = {"sharing_grant", "sharing_client", "audit_entry"}
    missing = needed - _tables(rt)
    if missing:
        result.unavailable = f"sharing tables {sorted(missing)} not on this node"
        return result
    now = now or utcnow()
    with rt.sessions() as session:
        conn = session.connection()
        for grant_id, consumer, resource, ends, uses, last in conn.execute(text(EXPIRED_GRANT_USE)):
            result.issues.append(
                Issue(
                    kind="access.expired_grant_used",
                    severity="critical",
                    subject=f"grant:{grant_id}",
                    message=f"grant {grant_id} ({resource}) ended {ends}, "
                    f"yet {uses} reads succeeded after it",
                    detail={"consumer": str(consumer), "resource": resource, "last_use": str(last)},
                )
            )
        cutoff = now - dt.timedelta(days=DORMANT_DAYS)
        for client_id, name, last in conn.execute(text(DORMANT_CLIENTS), {"cutoff": cutoff}):
            result.issues.append(
                Issue(
                    kind="access.dormant_credential",
                    severity="warning",
                    subject=f"client:{client_id}",
                    message=f"credential {name} unused since {last or 'issue'}; "
                    "revoke it if no longer needed",
                )
            )
        result.issues += _surges(conn, now)
    return result


EXPIRED_GRANT_USE = """
SELECT g.id, g.consumer_id, g.resource_code,
       CASE WHEN g.revoked_at IS NOT NULL AND g.revoked_at < g.expires_at THEN g.revoked_at
            ELSE g.expires_at END AS ends,
       count(*) AS uses, max(e.at) AS last
FROM audit_entry e JOIN sharing_grant g ON e.grant_id = g.id
WHERE e.outcome = 'ok'
  AND (e.at > g.expires_at OR (g.revoked_at IS NOT NULL AND e.at > g.revoked_at))
GROUP BY g.id, g.consumer_id, g.resource_code, g.expires_at, g.revoked_at
"""

DORMANT_CLIENTS = """
SELECT id, name, last_token_at FROM sharing_client
WHERE revoked_at IS NULL AND coalesce(last_token_at, created_at) < :cutoff
"""


def _surges(conn: Any, now: dt.datetime) -> list[Issue]:
    """Consumers whose rows read today exceed SURGE_FACTOR x their own median day."""
    since = now - dt.timedelta(days=29)
    daily: dict[str, dict[dt.date, int]] = {}
    rows = conn.execute(
        text("SELECT department, at, rows FROM audit_entry WHERE at >= :since AND outcome = 'ok'"),
        {"since": since},
    )
    for department, at, n in rows:
        day = (at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))).date()
        per = daily.setdefault(department or "?", {})
        per[day] = per.get(day, 0) + int(n or 0)
    issues = []
    today = now.date()
    for department, per in daily.items():
        before = sorted(per.get(today - dt.timedelta(days=d), 0) for d in range(1, 29))
        baseline = (before[13] + before[14]) / 2
        current = per.get(today, 0)
        if current >= SURGE_MIN_ROWS and current > SURGE_FACTOR * max(baseline, 1):
            issues.append(
                Issue(
                    kind="access.volume_surge",
                    severity="warning",
                    subject=f"department:{department}",
                    message=f"{department} read {current} rows today "
                    f"against a median of {baseline:g} a day",
                    detail={"today": current, "baseline": baseline},
                )
            )
    return issues


def sharing_audit_verifier(rt: Runtime) -> Callable[[Any], Any] | None:
    """The sharing platform's chain verifier, bound to this node's key and secret."""
    try:
        from exchange.platforms.sharing.audit import AuditLog  # type: ignore[import-not-found]
        from exchange.platforms.sharing.audit_chain import verify  # type: ignore[import-not-found]
    except ImportError:
        return None
    from exchange.directory.keys import own_history

    audit = AuditLog(rt.settings.secret_key.get_secret_value())
    me = rt.settings.node_code
    return lambda session: verify(session, own_history(session, me, rt.node_keys), audit)


def check_audit_chain(rt: Runtime, verifier: Callable[[Any], Any] | None = None) -> CheckResult:
    result = CheckResult("audit_chain")
    if "audit_entry" not in _tables(rt):
        result.unavailable = "table audit_entry not on this node"
        return result
    verifier = verifier or sharing_audit_verifier(rt)
    if verifier is None:
        result.unavailable = "the sharing platform's audit verifier is not installed"
        return result
    with rt.sessions() as session:
        report = verifier(session)
    for problem in report.problems:
        result.issues.append(Issue("audit.tampered", "critical", "audit_entry", problem))
    for warning in report.warnings:
        result.issues.append(Issue("audit.gap", "warning", "audit_entry", warning))
    result.gauges.append(Gauge("entries_sealed", float(report.entries_sealed)))
    return result
