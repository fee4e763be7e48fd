"""What the DAG files share: one builder for the assurance DAG shape, and the task bodies.

Every assurance DAG is `open_run` -> `check` (one mapped task per check) -> `finish` ->
`alert`. `finish` runs whatever became of the checks (a crashed check is a stored finding, a
check task that died is recorded as crashed), so every run ends with a status; `alert` sends
the news through the hub's channels and fails, red in Airflow, while the run has a critical
finding. A DAG file states only what differs (system, schedule, retries, docs) and calls
`assurance_dag`.
The dag processor parses each file often, so importing this module costs nothing beyond
`airflow.sdk`: the hub itself (settings, database, Great Expectations) is imported inside the
tasks, when they run.

Tasks are idempotent and keyed by the run's logical date: `open_run` finds or creates the
check run of (system, date), a retried `check` replaces what it stored before (`runs.record`).
The database URL comes from the Airflow Variable `hub_database_url` (set by `make airflow` /
`hub airflow up`), else from `HUB_DATABASE_URL`; every other setting from the `HUB_*`
environment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier, dag, get_current_context, task

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from exchange.core.runtime import Runtime

VARIABLE = "hub_database_url"
OWNER = "data-bureau"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TAGS = {"standards": "standards", "security": "security", "ops": "operations"}
CHECK_TIMEOUT = dt.timedelta(minutes=30)  # one check task; the ops DAG's own bound is shorter
STEP_TIMEOUT = dt.timedelta(minutes=5)  # open, plan, finish, alert: a few statements each
STATEMENT_TIMEOUT = dt.timedelta(minutes=10)  # one SQL statement of a task, in PostgreSQL


class HubFailureNotifier(BaseNotifier):
    """Airflow's side of alerting: a DAG run that failed for a reason the hub did not record
    (a task killed, timed out, out of retries) reaches the hub's alert channels all the same.
    A red `alert` task needs no second message: its findings were sent by the hub itself."""

    template_fields = ()

    def __init__(self, system: str) -> None:
        super().__init__()
        self.system = system

    def notify(self, context: Any) -> None:
        ti = context.get("ti") or context.get("task_instance")
        failed = getattr(ti, "task_id", None)
        if failed == "alert":
            return
        run = context.get("dag_run")
        message = (
            f"Airflow run {getattr(run, 'run_id', '?')} of hub_{self.system} failed"
            + (f" at task {failed}" if failed else "")
            + (f": {context['exception']}" if context.get("exception") else "")
        )
        notify_failure(self.system, f"dag:hub_{self.system}", message)


def assurance_dag(
    system: str,
    *,
    schedule: str,
    doc_md: str,
    retries: int,
    retry_delay: dt.timedelta,
    max_parallel_checks: int | None = None,
    timeout: dt.timedelta | None = None,
) -> DAG:
    """The DAG `hub_<system>`: open the run, plan its checks (`service.checks_of`: the
    standards checks are one per catalogued resource, so the list is read when the run starts,
    not when the file is parsed), one mapped `check` task each, finish the run."""

    @dag(
        dag_id=f"hub_{system}",
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=timeout,
        tags=["hub", "assurance", TAGS[system]],
        default_args={
            "owner": OWNER,
            "retries": retries,
            "retry_delay": retry_delay,
            "execution_timeout": STEP_TIMEOUT,
        },
        on_failure_callback=HubFailureNotifier(system),
        doc_md=doc_md,
    )
    def assurance() -> None:
        @task
        def open_run(**context: Any) -> str:
            return start_run(system, context)

        @task
        def plan() -> list[str]:
            return planned_checks(system)

        @task(
            max_active_tis_per_dagrun=max_parallel_checks,
            execution_timeout=min(CHECK_TIMEOUT, timeout) if timeout else CHECK_TIMEOUT,
            map_index_template="{{ hub_check }}",  # the grid names each task by its check
        )
        def check(check_run: str, name: str) -> dict[str, int]:
            get_current_context()["hub_check"] = name  # type: ignore[typeddict-unknown-key]
            return run_check(system, check_run, name)

        @task(trigger_rule="all_done")  # a check task that died still gets its run finished
        def finish(check_run: str, planned: list[str], _done: Any) -> dict[str, int]:
            return finish_run(check_run, planned)

        @task
        def alert(check_run: str, _counts: dict[str, int]) -> dict[str, int]:
            return send_alerts(check_run)

        run = open_run()
        planned = plan()
        # XComArgs here; the tasks receive the values when they run
        done = check.partial(check_run=run).expand(name=planned)
        alert(run, finish(run, planned, done))  # type: ignore[arg-type]

    return assurance()


# -- the task bodies: the hub is imported here, when a task runs -------------------------------
@contextmanager
def runtime() -> Iterator[Runtime]:
    from exchange.core.runtime import build_runtime
    from exchange.core.settings import load_settings
    from exchange.wiring import wire

    wire()
    url = _database_url()
    settings = load_settings(**({"database_url": url} if url else {}))
    bounded = with_statement_timeout(settings.resolved_database_url)
    rt = build_runtime(settings.model_copy(update={"database_url": bounded}))
    try:
        yield rt
    finally:
        rt.close()


def with_statement_timeout(url: str) -> str:
    """PostgreSQL cancels a task's statement after STATEMENT_TIMEOUT, before Airflow's own
    timeout kills the task and leaves the query running on the server without a client."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "options" in parsed.query:
        return url
    ms = int(STATEMENT_TIMEOUT.total_seconds() * 1000)
    bounded = parsed.update_query_dict({"options": f"-c statement_timeout={ms}"})
    return bounded.render_as_string(hide_password=False)


def _database_url() -> str | None:
    try:
        from airflow.sdk import Variable

        url: str | None = Variable.get(VARIABLE, default=None)
    except Exception:  # outside a task, or Airflow without a reachable metadata store
        return None
    if url:
        from airflow.sdk.log import mask_secret

        mask_secret(url)  # it carries the password: never in a task log
    return url


def run_key(context: Mapping[str, Any]) -> str:
    """The logical date (None for manual runs in Airflow 3: then the run's own time)."""
    from exchange.pipelines import runs

    when: dt.datetime | None = context.get("logical_date")
    if when is None:
        when = getattr(context.get("dag_run"), "run_after", None)
    return runs.run_key_for(when)


def start_run(system: str, context: Mapping[str, Any]) -> str:
    from airflow.sdk.exceptions import AirflowFailException

    from exchange.pipelines import service

    with runtime() as rt:
        try:
            return str(service.open_run(rt, system, run_key(context), "airflow"))
        except service.BackfillRefused as exc:  # retrying would not make it any younger
            raise AirflowFailException(str(exc)) from None


def planned_checks(system: str) -> list[str]:
    from exchange.pipelines import service

    with runtime() as rt:
        return service.checks_of(rt, system)


def run_check(system: str, run_id: str, name: str) -> dict[str, int]:
    import uuid

    from exchange.pipelines import service

    with runtime() as rt:
        return service.record_check(rt, system, uuid.UUID(run_id), name)


def finish_run(run_id: str, planned: list[str] | None = None) -> dict[str, int]:
    import uuid

    from exchange.pipelines import service

    with runtime() as rt:
        return service.finish_run(rt, uuid.UUID(run_id), planned or [])


def send_alerts(run_id: str) -> dict[str, int]:
    """Tell the channels, then fail the task (no retry: the findings will not go away by
    trying again) while the run has a critical finding, so the DAG run shows red."""
    import uuid

    from airflow.sdk.exceptions import AirflowFailException

    from exchange.pipelines import service

    with runtime() as rt:
        outcome = service.alert_run(rt, uuid.UUID(run_id))
    if outcome.critical:
        raise AirflowFailException(outcome.headline)
    return outcome.counts


def notify_failure(system: str, subject: str, message: str) -> None:
    from exchange.pipelines.alerts import service as alerts

    with runtime() as rt:
        alerts.notify_failure(rt, system, subject, message)
