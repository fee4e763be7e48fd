"""A local Apache Airflow 3 for the assurance DAGs (`hub airflow up`, `make airflow`).

`airflow standalone` (api-server, scheduler, dag-processor, triggerer; LocalExecutor; SQLite
metadata in AIRFLOW_HOME) runs as a child in a session of its own, supervised from here. The
reason is Ctrl-C: a terminal sends SIGINT to its whole foreground group, and standalone then
SIGTERMs components that are already handling that SIGINT; in Airflow 3.3 they deadlock and
the terminal hangs. So only this process receives the terminal's signals, and it passes one
SIGINT to standalone alone, whose own shutdown stops the components cleanly (~6 s); after
STOP_GRACE_S the components get SIGTERM, after twice that (or on a second Ctrl-C) SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
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
        # standalone prints its components' lines through a block-buffered stdout: a log
        # that stops short would hide how a shutdown went
        "PYTHONUNBUFFERED": "1",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # the Variable below carries the database password: masked in task logs
        "AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES": "hub_database_url",
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


def run_standalone(airflow: str, env: dict[str, str], say: Callable[[str], None] = print) -> int:
    """Run `airflow standalone` until it exits or this process is told to stop; its exit
    code: 0 after a requested stop that left no process behind, whichever step got there."""
    child = subprocess.Popen([airflow, "standalone"], env=env, start_new_session=True)
    asked = threading.Event()
    forced = threading.Event()

    def ask_to_stop(signum: int, _frame: object) -> None:
        if asked.is_set():  # a second Ctrl-C: no more waiting
            forced.set()
            _kill_group(child.pid, signal.SIGKILL)
        asked.set()

    previous = {s: signal.signal(s, ask_to_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while child.poll() is None and not asked.wait(0.5):
            pass
        if not asked.is_set():
            return child.returncode
        return 0 if _stop(child, say) and not forced.is_set() else 1
    finally:
        _kill_group(child.pid, signal.SIGKILL)  # nothing of this Airflow outlives hub
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stop(child: subprocess.Popen[bytes], say: Callable[[str], None]) -> bool:
    """Stop standalone and every component it started; False if that took SIGKILL.

    Standalone's own SIGINT path terminates each component and waits for it. Under load a
    component can take longer (the scheduler waits for its executor's task processes, the
    API server for its workers), and standalone then waits for their output pipes, held by
    grandchildren, for ever. So: its own path first, then SIGTERM to the whole group (every
    component handles it as a clean stop), SIGKILL last; each step is said on the console.
    """
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    if _group_gone(child, STOP_GRACE_S):
        return True
    say(f"Airflow still stopping after {STOP_GRACE_S:.0f} s: SIGTERM to every component")
    _kill_group(child.pid, signal.SIGTERM)
    if _group_gone(child, STOP_GRACE_S):
        return True
    say(f"Airflow still running {2 * STOP_GRACE_S:.0f} s after Ctrl-C: killed")
    _kill_group(child.pid, signal.SIGKILL)
    _group_gone(child, STOP_GRACE_S)
    return False


def _group_gone(child: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait until standalone has exited and no process of its group is left."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        child.poll()  # reaps standalone; its orphans are reaped by init
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            return child.returncode is not None
        time.sleep(0.2)
    return False


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
