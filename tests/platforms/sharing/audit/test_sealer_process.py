"""`hub serve` seals the audit log from one child process; its API workers seal nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from exchange.core.db import session_scope
from exchange.core.runtime import build_runtime
from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.audit.log import AuditLog, ReadContext
from exchange.platforms.sharing.models import AuditEntry, AuditSeal
from exchange.testing.postgres import LocalPostgres, free_port

pytestmark = pytest.mark.slow
SECRET = "sealer-test-secret-sealer-test-secret"
WHO = Principal("client", uuid.uuid4(), "c1", Role.department, "330100000000", uuid.uuid4(), "MZ")


def _children(pid: int) -> dict[int, bytes]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    found = {}
    for child in map(int, out.split()):
        try:
            found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except FileNotFoundError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def _wait(what: str, ok: object, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.mark.parametrize("workers", [1, 2])
def test_one_sealer_process_per_node_and_it_dies_with_the_server(
    pg_server: LocalPostgres, tmp_path: Path, workers: int
) -> None:
    url = pg_server.create_database(f"sealer_{workers}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
        "HUB_DATABASE_URL": url,
        "HUB_VAR_DIR": str(tmp_path),
        "HUB_SECRET_KEY": SECRET,
        "HUB_RELAY_INTERVAL_S": "0",
        "HUB_SHARING__SEAL_INTERVAL_S": "0.3",
        "HUB_LOG_LEVEL": "WARNING",
    }
    hub = [sys.executable, "-m", "exchange.cli"]
    subprocess.run([*hub, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*hub, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rt = build_runtime(Settings(database_url=url, var_dir=tmp_path, secret_key=SECRET))
    started: list[int] = []
    try:
        _wait("the server", lambda: _ready(port) and server.poll() is None)
        sealers = [p for p, cmd in _children(server.pid).items() if b" audit seal " in cmd]
        assert len(sealers) == 1, _children(server.pid)
        sealer = sealers[0]
        started = [sealer, *_children(server.pid)]

        def write(n: int) -> int:
            log, ctx = AuditLog(SECRET), ReadContext(WHO, "api", "核验身份", "MZ-1", None)
            with session_scope(rt.sessions) as s:
                ids = [
                    log.record(s, ctx, action="record", resource="population", grant_id=None,
                               keys=[f"k{i}"], rows=1)
                    for i in range(n)
                ]  # fmt: skip
            return max(ids)

        def sealed_to() -> int:
            with session_scope(rt.sessions) as s:
                return int(s.scalar(select(func.max(AuditSeal.high_id))) or 0)

        first = write(3)
        _wait("the sealer", lambda: sealed_to() >= first)

        os.kill(sealer, signal.SIGSTOP)  # with the sealer paused, nothing else seals
        try:
            second = write(3)
            time.sleep(2)  # several sealing periods
            assert sealed_to() < second
        finally:
            os.kill(sealer, signal.SIGCONT)
        _wait("the sealer to resume", lambda: sealed_to() >= second)

        server.kill()  # SIGKILL: the server cannot stop its children
        server.wait()
        _wait("the orphaned sealer to stop", lambda: not _alive(sealer), timeout_s=10)
        with session_scope(rt.sessions) as s:
            assert s.scalar(select(func.count()).select_from(AuditEntry)) == 6
    finally:
        rt.close()
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        for pid in started:  # workers a killed supervisor left behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
