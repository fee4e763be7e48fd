"""The staff console's operations page: `/console/ops`, server-rendered, charts as inline SVG.

Reads only what the pipelines stored (latest runs, findings, metric samples over time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, select_autoescape
from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.deps import DbSession
from exchange.pipelines import repository as repo
from exchange.pipelines import runs
from exchange.pipelines.alerts import repository as alerts_repo
from exchange.pipelines.alerts import service as alerts
from exchange.pipelines.alerts.models import AssuranceAlert
from exchange.platforms.sharing.console.router import OperatorUser, Page

router = APIRouter(tags=["staff console"], include_in_schema=False)

CHARTS = (
    ("hub_ops_storage_database_bytes", "Database size (bytes)"),
    ("hub_ops_storage_payload_store_bytes", "Payload store size (bytes)"),
    ("hub_ops_relay_backlog", "Relay backlog (pending deliveries)"),
    ("hub_ops_quarantine_batches", "Quarantined batches"),
)


# Operators (and nobody else) see the ops page: the staff console's sign-in and role check.
Operator = OperatorUser


def _svg(points: list[tuple[dt.datetime, float]], width: int = 480, height: int = 120) -> str:
    if not points:
        return '<p class="empty">no samples yet</p>'
    xs = [p[0].timestamp() for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs) or 1
    y1 = max(ys) or 1
    span = (x1 - x0) or 1
    coords = " ".join(
        f"{(x - x0) / span * (width - 10) + 5:.1f},{height - 5 - y / y1 * (height - 20):.1f}"
        for x, y in zip(xs, ys, strict=True)
    )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
        f'<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{coords}"/>'
        f'<text x="5" y="12" font-size="11">max {y1:,.0f}</text></svg>'
    )


PAGE = Environment(autoescape=select_autoescape(default=True)).from_string(
    """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>运维监控 · Operations</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px}.critical{color:#b00}.warning{color:#a60}
.charts{display:flex;flex-wrap:wrap;gap:2em}</style></head><body>
<h1>运维监控 Operations</h1>
<h2>Latest runs</h2>
<table><tr><th>system</th><th>as of</th><th>finished</th><th>status</th><th>critical</th>
<th>warning</th><th>info</th><th>error</th></tr>
{% for s in systems %}<tr class="{{ 'critical' if s.status == 'error' else '' }}">
<td>{{ s.system }}</td><td>{{ s.as_of or "" }}</td><td>{{ s.finished or "never" }}</td>
<td class="status-{{ s.status }}">{{ s.status or "" }}</td>
<td class="critical">{{ s.counts.critical }}</td><td class="warning">{{ s.counts.warning }}</td>
<td>{{ s.counts.info }}</td><td>{{ s.error or "" }}</td></tr>{% endfor %}</table>
<h2>Over the last {{ days }} days</h2><div class="charts">
{% for c in charts %}<figure><figcaption>{{ c.title }}</figcaption>{{ c.svg | safe }}</figure>
{% endfor %}</div>
<h2>Open alerts 告警</h2>
<table><tr><th>severity</th><th>system</th><th>kind</th><th>subject</th><th>message</th>
<th>keys</th><th>since</th><th>acknowledged</th><th>assigned to</th></tr>
{% for a in alerts %}<tr class="{{ a.severity }}" id="alert-{{ a.id }}"><td>{{ a.severity }}</td>
<td>{{ a.system }}</td><td>{{ a.kind }}</td>
<td>{% if a.link %}<a href="{{ a.link }}">{{ a.subject }}</a>
{%- else %}{{ a.subject }}{% endif %}</td>
<td>{{ a.message }}</td><td class="keys">{{ a.sample_keys | join(", ") }}</td><td>{{ a.since }}</td>
<td>{% if a.acknowledged_by %}{{ a.acknowledged_by }}{% else %}
<form method="post" action="/console/ops/alerts/{{ a.id }}/ack">
<input type="hidden" name="csrf" value="{{ csrf }}"><button>acknowledge 确认</button></form>
{% endif %}</td>
<td><form method="post" action="/console/ops/alerts/{{ a.id }}/assign">
<input type="hidden" name="csrf" value="{{ csrf }}">
<input name="to" value="{{ a.assigned_to or '' }}" maxlength="120" aria-label="assign to">
<button>assign 指派</button></form></td></tr>
{% else %}<tr><td colspan="9">no open alert</td></tr>{% endfor %}</table>
<h2>Findings of the latest runs</h2>
<table><tr><th>severity</th><th>system</th><th>kind</th><th>subject</th><th>message</th></tr>
{% for f in findings %}<tr class="{{ f.severity }}"><td>{{ f.severity }}</td><td>{{ f.system }}</td>
<td>{{ f.kind }}</td>
<td>{% if f.link %}<a href="{{ f.link }}">{{ f.subject }}</a>
{%- else %}{{ f.subject }}{% endif %}</td>
<td>{{ f.message }}</td></tr>
{% else %}<tr><td colspan="5">nothing to act on</td></tr>{% endfor %}</table>
</body></html>"""
)


def link_for(subject: str, detail: dict[str, Any], resources: set[str]) -> str | None:
    """Where a finding's subject is looked at: the dataset, the batch's lineage, the audit log."""
    code = subject.split(".", 1)[0]
    if code in resources:
        return f"/datasets/{code}"
    if detail.get("batch"):
        return f"/exchange/v1/batches/{detail['batch']}"
    if subject.startswith("audit_entry:"):
        return "/console/audit#entry-" + subject.removeprefix("audit_entry:")
    return None


def sample_keys(detail: dict[str, Any]) -> list[str]:
    """The rows to look at: a standards finding's sample keys, a personal-data hit's key."""
    keys = detail.get("keys")
    if isinstance(keys, list):
        return [str(k) for k in keys[:20]]
    return [str(detail["key"])] if detail.get("key") else []


def _alerts(session: Session, resources: set[str]) -> list[dict[str, object]]:
    return [
        {
            "id": a.id,
            "severity": a.severity,
            "system": a.system,
            "kind": a.kind,
            "subject": a.subject,
            "message": a.message,
            "sample_keys": sample_keys(a.detail),
            "since": f"{a.opened_at:%Y-%m-%d %H:%M} UTC",
            "acknowledged_by": a.acknowledged_by,
            "assigned_to": a.assigned_to,
            "link": link_for(a.subject, a.detail, resources),
        }
        for a in alerts_repo.open_alerts(session)
    ]


def page_context(session: Session, days: int) -> dict[str, object]:
    since = utcnow() - dt.timedelta(days=days)
    resources = set(repo.resource_codes(session))
    systems, findings = [], []
    order = {"critical": 0, "warning": 1, "info": 2}
    for system in runs.SYSTEMS:
        run = runs.latest_run(session, system)
        found = list(runs.findings(session, run.id)) if run else []
        systems.append(
            {
                "system": system,
                "finished": f"{run.finished_at:%Y-%m-%d %H:%M} UTC"
                if run and run.finished_at
                else None,
                "counts": runs.count_by_severity(found),
                "status": run.status if run else None,
                "error": run.error if run else None,
                "as_of": f"{run.as_of:%Y-%m-%d %H:%M} UTC" if run and run.as_of else None,
            }
        )
        findings += [
            {
                "system": system,
                "link": link_for(f.subject, f.detail, resources),
                **{k: getattr(f, k) for k in ("severity", "kind", "subject", "message")},
            }
            for f in found
        ]
    findings.sort(key=lambda f: order[str(f["severity"])])
    charts = [
        {"title": title, "svg": _svg(runs.series(session, name, since))} for name, title in CHARTS
    ]
    return {
        "systems": systems,
        "findings": findings,
        "charts": charts,
        "days": days,
        "alerts": _alerts(session, resources),
    }


@router.get("/console/ops", response_class=HTMLResponse)
def ops_page(session: DbSession, page: Operator, days: int = 14) -> HTMLResponse:
    csrf = page.state.csrf if page.state else ""
    return HTMLResponse(PAGE.render(csrf=csrf, **page_context(session, max(1, min(days, 90)))))


AssignTo = Annotated[str, Form(max_length=120)]
Csrf = Annotated[str, Form(max_length=200)]


def _act(page: Page, csrf: str, act: Callable[[], AssuranceAlert]) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, "CsrfFailed", "the form's CSRF token is missing or wrong")
    try:
        alert = act()
    except alerts.AlertNotFound as exc:
        return page.error(404, "AlertNotFound", f"no alert {exc}")
    return RedirectResponse(f"/console/ops#alert-{alert.id}", status_code=303)


@router.post("/console/ops/alerts/{alert_id}/ack")
def acknowledge_alert(
    alert_id: int, session: DbSession, page: Operator, csrf: Csrf = ""
) -> Response:
    return _act(page, csrf, lambda: alerts.acknowledge(session, alert_id, page.who.name))


@router.post("/console/ops/alerts/{alert_id}/assign")
def assign_alert(
    alert_id: int, session: DbSession, page: Operator, to: AssignTo = "", csrf: Csrf = ""
) -> Response:
    return _act(page, csrf, lambda: alerts.assign(session, alert_id, to.strip()))
