"""The stored assurance gauges in Prometheus text format: a scrape reads rows, runs no check."""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.pipelines import runs


def render(session: Session) -> str:
    lines: list[str] = []
    typed: set[str] = set()
    for s in runs.latest_samples(session):
        if s.name not in typed:
            lines.append(f"# TYPE {s.name} gauge")
            typed.add(s.name)
        labels = f"{{{s.labels}}}" if s.labels else ""
        lines.append(f"{s.name}{labels} {s.value!r}")
    for system in runs.SYSTEMS:
        run = runs.latest_run(session, system)
        if run is None or run.finished_at is None:
            continue
        name = "hub_assurance_last_run_timestamp_seconds"
        if name not in typed:
            lines.append(f"# TYPE {name} gauge")
            typed.add(name)
        lines.append(f'{name}{{system="{system}"}} {run.finished_at.timestamp()!r}')
        findings = "hub_assurance_findings"
        if findings not in typed:
            lines.append(f"# TYPE {findings} gauge")
            typed.add(findings)
        found = runs.findings(session, run.id)
        counts = runs.count_by_severity(found)
        for severity, n in counts.items():
            lines.append(f'{findings}{{system="{system}",severity="{severity}"}} {n}')
        # A crashed run must not pass for a clean one: its status and its crashed checks.
        status = "hub_assurance_last_run_status"
        if status not in typed:
            lines.append(f"# TYPE {status} gauge")
            typed.add(status)
        for name in runs.RUN_STATUSES:
            on = 1 if run.status == name else 0
            lines.append(f'{status}{{system="{system}",status="{name}"}} {on}')
        errors = "hub_assurance_check_errors"
        if errors not in typed:
            lines.append(f"# TYPE {errors} gauge")
            typed.add(errors)
        crashed = sum(f.kind == runs.CRASHED for f in found)
        lines.append(f'{errors}{{system="{system}"}} {crashed}')
    return "\n".join(lines) + ("\n" if lines else "")
