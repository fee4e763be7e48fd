"""
### Standards: every resource's stored rows against its schema's rules

Runs nightly. One task per resource (dynamic task mapping) runs the resource's expectation
suite — the intake gate's rules, generated from `schemas/` — inside the hub's database with
Great Expectations, stores a quality report, sets the resource's catalogue quality score and
records one finding per failing rule. Re-running a date replaces that date's results.

Code: `exchange.pipelines.standards`; same checks: `hub check standards`.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import dag, task

SYSTEM = "standards"


@dag(
    dag_id="hub_standards",
    schedule="0 2 * * *",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["hub", "assurance", "standards"],
    default_args={"owner": "data-bureau", "retries": 2, "retry_delay": dt.timedelta(minutes=5)},
    doc_md=__doc__,
)
def hub_standards() -> None:
    @task
    def open_run(**context: object) -> str:
        from exchange.pipelines import dagsupport

        return dagsupport.open_run(SYSTEM, context)

    @task
    def plan() -> list[str]:
        from exchange.pipelines import dagsupport

        return dagsupport.plan(SYSTEM)

    @task(max_active_tis_per_dagrun=2)
    def check(check_run: str, name: str) -> dict[str, int]:
        from exchange.pipelines import dagsupport

        return dagsupport.check(SYSTEM, check_run, name)

    @task
    def finish(check_run: str, _done: list[dict[str, int]]) -> dict[str, int]:
        from exchange.pipelines import dagsupport

        return dagsupport.finish(check_run)

    check_run = open_run()
    done = check.partial(check_run=check_run).expand(name=plan())
    finish(check_run, done)


hub_standards()
