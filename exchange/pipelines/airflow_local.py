"""A local Apache Airflow 3 for the assurance DAGs (`hub airflow up`, `make airflow`).

`airflow standalone` (api-server, scheduler, dag-processor, triggerer; LocalExecutor; SQLite
metadata in AIRFLOW_HOME) runs as a child in a session of its own, supervised from here. The
reason is Ctrl-C: a terminal sends SIGINT to its whole foreground group, and standalone then
SIGTERMs components that are already handling that SIGINT; in Airflow 3.3 they deadlock and
the terminal hangs. So only this process receives the terminal's signals, and it passes one
SIGINT to standalone alone, whose own shutdown stops the components cleanly (~6 s); after
STOP_GRACE_S, or on a second Ctrl-C, the whole group is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from pathlib import Path

from exchange.core.settings import Settings

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
STOP_GRACE_S = 30.0


def environment(settings: Settings, airflow: str, home: Path, port: int) -> dict[str, str]:
    url = settings.resolved_database_url
    return {
        **os.environ,
        # standalone starts its components as `airflow ...` from PATH: put the installation
        # found here first, or a shell outside the venv finds none (or another one).
        "PATH": os.pathsep.join([str(Path(airflow).parent), os.environ.get("PATH", "")]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        # also where task processes reach the execution API (`{base_url}/execution/`)
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        # The tasks read the hub's database URL from this variable (see dagsupport.py); the
        # connection shows it in Airflow's UI and lets SQL operators reach it too.
        "AIRFLOW_VAR_HUB_DATABASE_URL": url,
        "AIRFLOW_CONN_HUB_DB": url.replace("+psycopg", ""),
        # LocalExecutor starts one worker process per slot up front: 32 by default
        "AIRFLOW__CORE__PARALLELISM": os.environ.get("AIRFLOW__CORE__PARALLELISM", "4"),
    }


def run_standalone(airflow: str, env: dict[str, str]) -> int:
    """Run `airflow standalone` until it exits or this process is told to stop; its exit
    code (0 after a requested stop that went cleanly)."""
    child = subprocess.Popen([airflow, "standalone"], env=env, start_new_session=True)
    asked = threading.Event()

    def ask_to_stop(signum: int, _frame: object) -> None:
        if asked.is_set():  # a second Ctrl-C: no more waiting
            _kill_group(child.pid, signal.SIGKILL)
        asked.set()

    previous = {s: signal.signal(s, ask_to_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while child.poll() is None and not asked.wait(0.5):
            pass
        if child.poll() is None:
            child.send_signal(signal.SIGINT)  # standalone's own shutdown path
            try:
                child.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                _kill_group(child.pid, signal.SIGKILL)
                child.wait()
                return 1
        return 0 if asked.is_set() and child.returncode in (0, -signal.SIGINT) else child.returncode
    finally:
        _kill_group(child.pid, signal.SIGTERM)  # anything a component left behind
        for s, handler in previous.items():
            signal.signal(s, handler)


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
