"""
### Operations: is data arriving, moving and stored as it should?

Runs every 15 minutes. One task per check: freshness of every resource against its declared
update cycle, connector heartbeats and last pushes, the relay outbox (backlog and oldest
pending delivery per destination), reachability of the parent and child nodes, database and
payload store size, and quarantined batches. The gauges feed `/metrics` and the staff
console's ops page (`/console/ops`); findings are stored per logical date.

Code: `exchange.pipelines.ops`; same checks: `hub check ops`.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import dag, task

SYSTEM = "ops"
CHECKS = ("freshness", "connectors", "relay", "neighbours", "storage", "quarantine")


@dag(
    dag_id="hub_ops",
    schedule="*/15 * * * *",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(minutes=14),
    tags=["hub", "assurance", "operations"],
    default_args={"owner": "data-bureau", "retries": 1, "retry_delay": dt.timedelta(minutes=1)},
    doc_md=__doc__,
)
def hub_ops() -> None:
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


hub_ops()
