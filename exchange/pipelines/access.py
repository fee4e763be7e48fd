"""Security, the rights side: who still reads with rights that ended, and the audit log itself.

Two checks over the sharing platform's tables (`sharing_grant`, `sharing_client`,
`audit_entry`, `audit_seal`); a node without them reports the checks as not available.
* `access`: reads that succeeded after their grant expired or was revoked (critical: the
  platform refuses those, so each one is a read path that skipped the check, or a forged
  entry), credentials unused for DORMANT_DAYS, and consumers reading far above their own
  baseline.
* `audit_chain`: the sharing platform's own verifier walks the hash chain end to end; each
  altered or deleted entry is its own critical finding.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, inspect

from exchange.core.db import utcnow
from exchange.core.runtime import Runtime
from exchange.pipelines import repository as repo
from exchange.pipelines.runs import CheckResult, Gauge, Issue

DORMANT_DAYS = 90
SURGE_FACTOR = 10.0  # the last 24 hours against the median day of the four weeks before
SURGE_MIN_ROWS = 1_000
BASELINE_DAYS = 28


def _tables(rt: Runtime) -> set[str]:
    return set(inspect(rt.engine).get_table_names())


def check_access(rt: Runtime, now: dt.datetime | None = None) -> CheckResult:
    result = CheckResult("access")
    missing = {"sharing_grant", "sharing_client", "audit_entry"} - _tables(rt)
    if missing:
        result.unavailable = f"sharing tables {sorted(missing)} not on this node"
        return result
    now = now or utcnow()
    with rt.sessions() as session:
        conn = session.connection()
        result.issues += _reads_after_end(conn)
        result.issues += _dormant(conn, now - dt.timedelta(days=DORMANT_DAYS))
        result.issues += _surges(conn, now)
    return result


def _reads_after_end(conn: Connection) -> list[Issue]:
    return [
        Issue(
            kind=f"access.{how}_grant_used",
            severity="critical",
            subject=f"grant:{grant_id}",
            message=f"grant {grant_id} ({resource}) was {how} at {ended}, "
            f"yet {uses} read{'s' if uses != 1 else ''} ({read_rows} rows) succeeded after it",
            detail={
                "consumer": str(consumer),
                "resource": resource,
                "uses": int(uses),
                "last_use": str(last),
            },
        )
        for grant_id, consumer, resource, how, ended, uses, read_rows, last in (
            repo.reads_after_end(conn)
        )
    ]


def _dormant(conn: Connection, cutoff: dt.datetime) -> list[Issue]:
    return [
        Issue(
            kind="access.dormant_credential",
            severity="warning",
            subject=f"client:{client_id}",
            message=f"credential {name} unused since {last or 'it was issued'}; "
            "revoke it if no longer needed",
            detail={"last_token_at": str(last) if last else None},
        )
        for client_id, name, last in repo.dormant_clients(conn, cutoff)
    ]


def _surges(conn: Connection, now: dt.datetime) -> list[Issue]:
    """Consumers whose rows read in the last 24 hours exceed SURGE_FACTOR x the median of
    their own previous BASELINE_DAYS days (24-hour windows back from `now`, so a run just
    after midnight compares like with like). One grouped query, summed in the database."""
    bounds = [now - dt.timedelta(days=d) for d in range(BASELINE_DAYS + 2)]
    issues = []
    for department, current, *before in repo.rows_read_per_day(conn, bounds):
        ordered = sorted(int(v) for v in before)
        baseline = (ordered[BASELINE_DAYS // 2 - 1] + ordered[BASELINE_DAYS // 2]) / 2
        if current >= SURGE_MIN_ROWS and current > SURGE_FACTOR * max(baseline, 1):
            issues.append(
                Issue(
                    kind="access.volume_surge",
                    severity="warning",
                    subject=f"department:{department}",
                    message=f"{department} read {int(current)} rows in the last 24 hours "
                    f"against a median of {baseline:g} a day",
                    detail={"last_24h": int(current), "baseline": baseline},
                )
            )
    return issues


# -- the audit chain ---------------------------------------------------------------------------
def sharing_audit_verifier(rt: Runtime) -> Callable[[Any], Any]:
    """The sharing platform's chain verifier, bound to this node's key and secret."""
    from exchange.directory.keys import own_history
    from exchange.platforms.sharing.audit.chain import verify
    from exchange.platforms.sharing.audit.log import AuditLog

    audit = AuditLog(rt.settings.secret_key.get_secret_value())
    me = rt.settings.node_code
    return lambda session: verify(session, own_history(session, me, rt.node_keys), audit)


# The verifier's sentences about single entries ("entry 12 (seal 3) was altered"): each becomes
# a finding of its own, so an operator sees which rows to restore from a backup.
_ENTRY = re.compile(r"^entry (\d+) .*was (altered|deleted)$")
_UNSEALED = re.compile(r"^entry (\d+) is unsealed")


def check_audit_chain(rt: Runtime, verifier: Callable[[Any], Any] | None = None) -> CheckResult:
    result = CheckResult("audit_chain")
    if "audit_entry" not in _tables(rt):
        result.unavailable = "table audit_entry not on this node"
        return result
    verifier = verifier or sharing_audit_verifier(rt)
    with rt.sessions() as session:
        report = verifier(session)
    for problem in report.problems:
        entry, unsealed = _ENTRY.match(problem), _UNSEALED.match(problem)
        if entry:
            kind, subject = f"audit.entry_{entry.group(2)}", f"audit_entry:{entry.group(1)}"
        elif unsealed:
            kind, subject = "audit.unsealed", f"audit_entry:{unsealed.group(1)}"
        else:
            kind, subject = "audit.chain_broken", "audit_seal"
        result.issues.append(Issue(kind, "critical", subject, problem))
    for warning in report.warnings:
        result.issues.append(Issue("audit.gap", "warning", "audit_entry", warning))
    result.gauges.append(Gauge("entries_sealed", float(report.entries_sealed)))
    result.gauges.append(Gauge("entries_unsealed", float(report.entries_unsealed)))
    return result
