"""`hub airflow up` for real: Airflow 3 on a loopback port serves the hub's DAGs and runs one.

Started the way an operator starts it (`make airflow` runs the same command), from a shell
whose PATH does not include the virtual environment; asked through Airflow's public REST API
with a token from the simple auth manager; stopped with Ctrl-C, i.e. SIGINT to the terminal's
process group. Every wait is bounded; whatever happens, every process of this Airflow (known
by its AIRFLOW_HOME) is killed by id at the end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest
from sqlalchemy import select

from exchange.core.db import make_engine
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.lifecycle import prepare_database
from exchange.pipelines.airflow_local import STOP_GRACE_S
from exchange.pipelines.models import CheckRun
from exchange.pipelines.runs import run_key_for
from exchange.testing.postgres import LocalPostgres, free_port

DAG_IDS = {"hub_standards", "hub_security", "hub_ops"}
HUB_AIRFLOW_UP = [sys.executable, "-m", "exchange.cli", "airflow", "up"]
T = TypeVar("T")


def _until(what: str, probe: Callable[[], T | None], seconds: float, proc: subprocess.Popen) -> T:
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = probe()
        except httpx.TransportError:
            found = None
        if found is not None:
            return found
        assert proc.poll() is None, f"hub airflow up exited ({proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {seconds:.0f} s"
        time.sleep(1)


def _processes_of(home: Path) -> list[psutil.Process]:
    """Every process of the Airflow whose AIRFLOW_HOME is `home`, whatever its group."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("AIRFLOW_HOME") == str(home) and p.status() != "zombie":
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _ctrl_c(proc: subprocess.Popen, home: Path, seconds: float) -> tuple[int | None, list[str]]:
    """SIGINT to hub's group, as a terminal sends it; hub's exit code (None: still running
    after `seconds`) and what of this Airflow was left running then. Nothing is, afterwards."""
    os.killpg(proc.pid, signal.SIGINT)  # start_new_session: the group is named after hub
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (proc.poll() is None or _processes_of(home)):
        time.sleep(0.5)
    code, left = proc.poll(), [" ".join(p.cmdline()[:3]) for p in _processes_of(home)]
    _kill(proc, home)
    return code, left


def _kill(proc: subprocess.Popen, home: Path) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for p in _processes_of(home):
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    proc.wait(timeout=30)


@pytest.fixture
def hub_database(pg_server: LocalPostgres) -> Iterator[str]:
    url = pg_server.create_database("airflow_up")
    engine = make_engine(url)
    prepare_database(engine, load_all(SCHEMAS_DIR))
    engine.dispose()
    yield url


@pytest.mark.slow
@pytest.mark.own_lane
def test_airflow_up_lists_the_dags_runs_one_and_stops_on_ctrl_c(
    tmp_path: Path, hub_database: str
) -> None:
    started = time.monotonic()
    port, home = free_port(), tmp_path / "airflow"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "AIRFLOW"))}
    env |= {
        "PATH": "/usr/bin:/bin",  # a shell outside the venv: hub must start its own Airflow
        "HUB_ENV": "test",
        "HUB_SECRET_KEY": "test-secret-not-for-production",
        "HUB_DATABASE_URL": hub_database,
        "HUB_VAR_DIR": str(tmp_path / "var"),
    }
    log = tmp_path / "airflow-up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*HUB_AIRFLOW_UP, "--port", str(port), "--home", str(home)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            run_after = _check_airflow(http, home, proc)
        asked = time.monotonic()
        # hub may take both grace periods (standalone's own stop, then SIGTERM to all)
        code, left = _ctrl_c(proc, home, seconds=2 * STOP_GRACE_S + 30)
        stopped_in = time.monotonic() - asked
    except BaseException:
        _kill(proc, home)
        print(log.read_text(errors="replace")[-6000:])
        raise
    assert (code, left) == (0, []), log.read_text(errors="replace")[-3000:]
    print(
        f"hub airflow up: up, checked, one run, stopped in {time.monotonic() - started:.0f} s "
        f"(Ctrl-C to exit: {stopped_in:.1f} s)"
    )

    # The run's tasks wrote to the hub's database: its check run, keyed by the run's date.
    engine = make_engine(hub_database)
    with engine.connect() as conn:
        run = conn.execute(
            select(CheckRun.trigger, CheckRun.finished_at).where(
                CheckRun.system == "ops", CheckRun.run_key == run_key_for(run_after)
            )
        ).one()
    engine.dispose()
    assert run.trigger == "airflow" and run.finished_at is not None


def _healthy(http: httpx.Client) -> dict[str, Any] | None:
    r = http.get("/api/v2/monitor/health")
    if r.status_code != 200:
        return None
    body = r.json()
    components = ("metadatabase", "scheduler", "dag_processor", "triggerer")
    return body if all(body.get(c, {}).get("status") == "healthy" for c in components) else None


def _check_airflow(http: httpx.Client, home: Path, proc: subprocess.Popen) -> dt.datetime:
    """The checks through the REST API; the `run_after` of the DAG run it triggered and saw
    finish. Returns while a task of another run is running."""
    _until("healthy api-server, scheduler and dag-processor", lambda: _healthy(http), 240, proc)
    # Airflow 3's simple auth manager: a JWT from POST /auth/token for a user whose generated
    # password `airflow standalone` wrote into AIRFLOW_HOME.
    passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
    r = http.post("/auth/token", json={"username": "admin", "password": passwords["admin"]})
    assert r.status_code == 201, r.text
    http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    assert httpx.get(f"{http.base_url}".rstrip("/") + "/api/v2/dags").status_code == 401

    def listed() -> list[dict[str, Any]] | None:
        dags = http.get("/api/v2/dags").json()["dags"]
        return dags if {d["dag_id"] for d in dags} >= DAG_IDS else None

    dags = _until("the three DAGs parsed", listed, 120, proc)
    assert {d["dag_id"] for d in dags} == DAG_IDS
    assert all(not d["has_import_errors"] and d["owners"] == ["data-bureau"] for d in dags)
    assert all({"hub", "assurance"} <= {t["name"] for t in d["tags"]} for d in dags)
    errors = http.get("/api/v2/importErrors").json()
    assert errors["total_entries"] == 0, errors

    # One real run through the scheduler and LocalExecutor, against the hub's database.
    # Unpausing also makes the scheduler start the latest scheduled run (catchup is off).
    assert http.patch("/api/v2/dags/hub_ops", json={"is_paused": False}).status_code == 200
    r = http.post("/api/v2/dags/hub_ops/dagRuns", json={"logical_date": None})
    assert r.status_code == 200, r.text
    run_id = r.json()["dag_run_id"]

    def finished() -> str | None:
        state = http.get(f"/api/v2/dags/hub_ops/dagRuns/{run_id}").json()["state"]
        return state if state in ("success", "failed") else None

    def all_finished() -> list[str] | None:
        runs = http.get("/api/v2/dags/hub_ops/dagRuns").json()["dag_runs"]
        states = [x["state"] for x in runs]
        return states if states and all(s in ("success", "failed") for s in states) else None

    assert _until("the hub_ops run to finish", finished, 300, proc) == "success"
    assert _until("every hub_ops run to finish", all_finished, 300, proc)

    # Ctrl-C comes while a task is running, the hard case for a clean stop: the scheduler
    # waits for its executor, whose task processes must be told to stop too.
    again = http.post("/api/v2/dags/hub_ops/dagRuns", json={"logical_date": None}).json()

    def a_task_running() -> str | None:
        tis = http.get(f"/api/v2/dags/hub_ops/dagRuns/{again['dag_run_id']}/taskInstances")
        running = [t["task_id"] for t in tis.json()["task_instances"] if t["state"] == "running"]
        return running[0] if running else None

    _until("a task of the second run to run", a_task_running, 300, proc)
    return dt.datetime.fromisoformat(r.json()["run_after"])
