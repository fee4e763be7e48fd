"""
### Security: personal data in public view, hidden resources, rights in use, the audit log

Runs nightly. Four checks, one task each: personal data in every open dataset (whole tables,
scanned in the database) and in sampled public API responses; no 不予共享 / 禁止开放 resource
reachable through the open-data API; grants used after they ended, dormant credentials and
consumers reading far above their baseline; the audit log's hash chain verified end to end.
Findings carry a severity (info / warning / critical) and are stored per logical date.

Code: `exchange.pipelines.security`; same checks: `hub check security`.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import dag, task

SYSTEM = "security"
CHECKS = ("pii", "exposure", "access", "audit_chain")


@dag(
    dag_id="hub_security",
    schedule="30 2 * * *",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["hub", "assurance", "security"],
    default_args={"owner": "data-bureau", "retries": 2, "retry_delay": dt.timedelta(minutes=5)},
    doc_md=__doc__,
)
def hub_security() -> None:
    @task
    def open_run(**context: object) -> str:
        from exchange.pipelines import dagsupport

        return dagsupport.open_run(SYSTEM, context)

    @task
    def check(check_run: str, name: str) -> dict[str, int]:
        from exchange.pipelines import dagsupport

        return dagsupport.check(SYSTEM, check_run, name)

    @task
    def finish(check_run: str, _done: list[dict[str, int]]) -> dict[str, int]:
        from exchange.pipelines import dagsupport

        return dagsupport.finish(check_run)

    check_run = open_run()
    finish(check_run, check.partial(check_run=check_run).expand(name=list(CHECKS)))


hub_security()
