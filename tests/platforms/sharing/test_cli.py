"""`hub user add`, `hub client add`, `hub audit seal|verify` as an operator runs them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import run_hub


@pytest.fixture
def node(tmp_path: Path) -> Path:
    for args in (("db", "upgrade"), ("node", "init")):
        r = run_hub(*args, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    return tmp_path


def test_user_add_stores_a_scrypt_hash_and_names_what_is_wrong(node: Path) -> None:
    r = run_hub(
        "user", "add", "ga_clerk", "--role", "department", "--department", "GA",
        "--password", "a long enough passphrase", cwd=node,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ga_clerk department GA ")
    with sqlite3.connect(node / "var" / "hub.db") as conn:
        (stored,) = conn.execute(
            "SELECT password_hash FROM console_user WHERE username = 'ga_clerk'"
        ).fetchone()
    assert stored.startswith("scrypt$") and "passphrase" not in stored
    r = run_hub("user", "add", "x1", "--role", "department", "--password", "p" * 12, cwd=node)
    assert r.returncode == 2 and r.stderr.startswith("DepartmentRequired: ")


def test_client_add_prints_the_secret_once_and_audit_verifies(node: Path) -> None:
    r = run_hub("client", "add", "民政局低保系统", "--department", "GA", cwd=node)
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["client_secret"].startswith("hubs_")
    with sqlite3.connect(node / "var" / "hub.db") as conn:
        rows = conn.execute("SELECT secret_sha256 FROM sharing_client").fetchall()
    assert made["client_secret"] not in {row[0] for row in rows}
    assert run_hub("audit", "seal", cwd=node).stdout.strip() == "sealed 0 entries"
    verified = run_hub("audit", "verify", cwd=node)
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"] is True


def test_user_list_disable_and_reset_password(node: Path) -> None:
    add = ("user", "add", "mz_clerk", "--role", "auditor", "--password", "a long passphrase!")
    assert run_hub(*add, cwd=node).returncode == 0
    listed = run_hub("user", "list", cwd=node)
    assert listed.returncode == 0 and listed.stdout.startswith("mz_clerk auditor - active ")
    reset = run_hub("user", "reset-password", "mz_clerk", cwd=node)
    assert reset.returncode == 0 and "new password: " in reset.stdout
    assert run_hub("user", "disable", "mz_clerk", cwd=node).returncode == 0
    assert " disabled " in run_hub("user", "list", cwd=node).stdout
    missing = run_hub("user", "disable", "nobody", cwd=node)
    assert missing.returncode == 2 and missing.stderr.startswith("UserNotFound: ")
