"""The `hub` program as an operator runs it: real processes, real ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from exchange.testing.postgres import LocalPostgres, free_port

HUB = [sys.executable, "-m", "exchange.cli"]


def run_hub(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    full_env.update(env or {})
    return subprocess.run(
        [*HUB, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = run_hub("--help", cwd=tmp_path).stdout
    for command in ("serve", "demo", "db"):
        assert command in out


def test_a_bad_setting_stops_the_program_with_one_line(tmp_path: Path) -> None:
    r = run_hub("serve", cwd=tmp_path, env={"HUB_NODE_CODE": "12345"})
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines == [
        "invalid setting HUB_NODE_CODE: '12345' is not a 12-digit administrative division code"
    ]


def test_db_upgrade_is_idempotent_on_sqlite(tmp_path: Path) -> None:
    for _ in range(2):
        r = run_hub("db", "upgrade", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "var" / "hub.db").exists()
    assert "current: 0" in run_hub("db", "current", cwd=tmp_path).stdout


def test_db_upgrade_is_idempotent_on_postgresql(tmp_path: Path, pg_server: LocalPostgres) -> None:
    env = {"HUB_DATABASE_URL": pg_server.create_database("cli_upgrade")}
    for _ in range(2):
        r = run_hub("db", "upgrade", cwd=tmp_path, env=env)
        assert r.returncode == 0, r.stderr
    current = run_hub("db", "current", cwd=tmp_path, env=env).stdout
    head = current.split("head: ")[1].strip()
    assert current.startswith(f"current: {head}")


@pytest.mark.slow
def test_demo_serves_the_embedded_default_like_make_run(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*HUB, "demo", "--port", str(port)],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "hub demo did not come up within 60 s"
            time.sleep(0.3)
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200 and "server" not in ready.headers  # no software banner
        validate(httpx.get(f"{base}/openapi.json").json())
        assert "西湖区" in httpx.get(f"{base}/exchange/v1/node").text
        assert (tmp_path / "var" / "hub.db").exists() and (tmp_path / "var" / "payloads").is_dir()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(
    "command", [("batch", "list"), ("delivery", "list"), ("department", "list"), ("check", "ops")]
)
def test_a_node_command_on_no_database_says_so_in_one_line_and_makes_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    r = run_hub(*command, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"no database at {tmp_path / 'var' / 'hub.db'}: run `hub db upgrade` first"
    ]
    assert not (tmp_path / "var").exists()


def test_a_node_command_on_an_old_schema_names_the_revisions(tmp_path: Path) -> None:
    assert run_hub("db", "upgrade", "--revision", "0005", cwd=tmp_path).returncode == 0
    r = run_hub("batch", "list", cwd=tmp_path)
    assert r.returncode == 2
    (line,) = r.stderr.strip().splitlines()
    assert "is at revision 0005, this code needs" in line and "hub db upgrade" in line
    assert run_hub("db", "upgrade", cwd=tmp_path).returncode == 0
    assert run_hub("batch", "list", cwd=tmp_path).returncode == 0


def test_node_dir_must_be_a_node_folder(tmp_path: Path) -> None:
    r = run_hub("--node-dir", str(tmp_path / "nowhere"), "batch", "list", cwd=tmp_path)
    assert r.returncode == 2
    assert (
        r.stderr.strip()
        == f"{tmp_path / 'nowhere'} is not a node folder: "
        + str(tmp_path / "nowhere" / "settings.toml")
        + " is missing"
    )
