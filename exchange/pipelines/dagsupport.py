"""What the DAG files share: the hub's runtime inside a task, and a run key from the context.

Imported inside tasks only. The database URL comes from the Airflow Variable
`hub_database_url` (set by `make airflow` / `hub airflow up`), else from `HUB_DATABASE_URL`;
every other setting from the usual `HUB_*` environment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from exchange.core.runtime import Runtime, build_runtime
from exchange.core.settings import load_settings
from exchange.pipelines import runs, service

VARIABLE = "hub_database_url"


def _database_url() -> str | None:
    try:
        from airflow.sdk import Variable

        return Variable.get(VARIABLE, default=None)
    except Exception:  # outside a task, or Airflow without a reachable metadata store
        return None


@contextmanager
def runtime() -> Iterator[Runtime]:
    url = _database_url()
    settings = load_settings(**({"database_url": url} if url else {}))
    rt = build_runtime(settings)
    try:
        yield rt
    finally:
        rt.close()


def run_key(context: Mapping[str, Any]) -> str:
    """The logical date (None for manual runs in Airflow 3: then the run's own time)."""
    when: dt.datetime | None = context.get("logical_date")
    if when is None:
        dag_run = context.get("dag_run")
        when = getattr(dag_run, "run_after", None)
    return runs.run_key_for(when)


def open_run(system: str, context: Mapping[str, Any]) -> str:
    with runtime() as rt:
        return str(service.open_run(rt, system, run_key(context), "airflow"))


def plan(system: str) -> list[str]:
    with runtime() as rt:
        return service.checks_of(rt, system)


def check(system: str, run_id: str, name: str) -> dict[str, int]:
    with runtime() as rt:
        return service.record_check(rt, system, uuid.UUID(run_id), name)


def finish(run_id: str) -> dict[str, int]:
    with runtime() as rt:
        return service.finish_run(rt, uuid.UUID(run_id))
