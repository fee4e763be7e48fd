"""A throwaway PostgreSQL server from the system's binaries, for tests and benchmarks.

No Docker, no mocks: `initdb` into a temporary folder, `pg_ctl start` on a free loopback port,
`pg_ctl stop` at the end. As root it runs the server as the `postgres` user (PostgreSQL refuses
to run as root). Also used to build a primary + streaming replica pair.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    """The newest installed server's bin folder (Debian keeps them in /usr/lib/postgresql/N/bin)."""
    env = os.environ.get("HUB_PG_BINDIR")
    candidates = [Path(env)] if env else []
    candidates += sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.append(Path(pg_ctl).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) found; install the `postgresql` package "
        "(scripts/ensure-postgres does it) or set HUB_PG_BINDIR"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    def __init__(self, root: Path | None = None, port: int | None = None) -> None:
        self.bindir = find_bindir()
        self._own_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="hub-pg-"))
        self.datadir = self.root / "data"
        self.port = port or free_port()
        self.started = False

    # -- running commands as the server's owner ----------------------------------------------
    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return args
        return ["runuser", "-u", "postgres", "--", *args]

    def _run(self, args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self._as_owner(args),
            capture_output=True,
            text=True,
            cwd=self.root,
            check=False,
            **kw,  # type: ignore[call-overload]
        )
        if proc.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(args[:2])} failed: {proc.stderr or proc.stdout}")
        return proc

    def _chown(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.root.chmod(0o700)

    # -- lifecycle ------------------------------------------------------------------------
    def init(self) -> None:
        self._chown()
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )

    def start(self, *, extra_conf: dict[str, str] | None = None) -> None:
        if not self.datadir.exists():
            self.init()
        conf = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            # Throwaway data: durability traded for speed. Never copy these to production.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "256MB",
            **(extra_conf or {}),
        }
        opts = " ".join(f"-c {k}={v}" for k, v in conf.items())
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.root / "server.log"),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self.started = True

    def stop_server(self) -> None:
        """Stop the server but keep its data (start() brings it back)."""
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop"])
        self.started = False

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(PostgresUnavailable):
                self._run(
                    [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop"]
                )
            self.started = False
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- use ------------------------------------------------------------------------------
    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def start_replica(self) -> LocalPostgres:
        """A streaming replica of this server on its own port (pg_basebackup -R)."""
        replica = LocalPostgres()
        replica._chown()
        replica._run(
            [
                str(self.bindir / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-D",
                str(replica.datadir),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
            ]
        )
        replica.start(extra_conf={"hot_standby": "on"})
        return replica

    def version(self) -> str:
        with psycopg.connect(self.dsn()) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def wait_ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@contextlib.contextmanager
def running_postgres() -> Iterator[LocalPostgres]:
    pg = LocalPostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()
