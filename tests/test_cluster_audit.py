"""Audit anchoring on a real province + city + district: a city insider shortens the city's
audit chain, the city's own database no longer shows it, and the province's copy does."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from exchange import cluster
from exchange.core.signing import KeyPair
from tests.test_cluster import Topology

pytestmark = pytest.mark.slow
CITY, PROVINCE = cluster.CITY, cluster.PROVINCE


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    t = Topology(tmp_path_factory.mktemp("cluster-audit"))
    t.procs = cluster.start(t.nodes, None, [])
    try:
        cluster.wait_ready(t.nodes)
        yield t
    finally:
        cluster.stop(t.procs)


def _db(topo: Topology, code: str) -> sqlite3.Connection:
    return sqlite3.connect(topo.by_code[code].home / "hub.db", timeout=30)


def _scalar(topo: Topology, code: str, sql: str) -> int:
    with _db(topo, code) as conn:
        return int(conn.execute(sql).fetchone()[0] or 0)


def _wait(what: str, done: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def _refused_reads(topo: Topology, token: str, n: int) -> None:
    """Reads without a grant: each one is refused (403) and audited at the city."""
    for i in range(n):
        r = httpx.get(
            f"{topo.url(CITY)}/sharing/v1/resources/population/records/33010619900101{i:04d}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 403, r.text


def _verify(topo: Topology, code: str, *args: str) -> tuple[int, dict]:
    r = topo.hub(code, "audit", "verify", *args)
    assert r.stdout, r.stderr
    return r.returncode, json.loads(r.stdout)


def _token(topo: Topology, code: str, name: str, *args: str) -> str:
    made = topo.hub(code, "client", "add", name, *args)
    assert made.returncode == 0, made.stderr
    return str(
        httpx.post(
            f"{topo.url(code)}/sharing/v1/token",
            data={"grant_type": "client_credentials", **json.loads(made.stdout)},
        ).json()["access_token"]
    )


def _verify_api(topo: Topology, code: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{topo.url(code)}/sharing/v1/audit/verify",
        params={"against": "parent"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _all_anchored(topo: Topology) -> bool:
    sealed = _scalar(topo, CITY, "SELECT max(seal_no) FROM audit_seal")
    held = _scalar(
        topo, PROVINCE, f"SELECT max(seal_no) FROM audit_child_head WHERE child = '{CITY}'"
    )
    kept = _scalar(topo, CITY, "SELECT max(seal_no) FROM audit_anchor")
    return sealed > 0 and sealed == held == kept


def test_a_truncated_city_chain_is_exposed_by_the_province_copy(topo: Topology) -> None:
    made = topo.hub(CITY, "client", "add", "公安局核查系统", "--department", "GA")
    assert made.returncode == 0, made.stderr
    client = json.loads(made.stdout)
    token = httpx.post(
        f"{topo.url(CITY)}/sharing/v1/token",
        data={"grant_type": "client_credentials", **client},
    ).json()["access_token"]
    for _ in range(5):  # several seals (one per sealing pass, every second)
        _refused_reads(topo, token, 3)
        time.sleep(1.2)
    _wait("every city seal countersigned by the province", lambda: _all_anchored(topo))
    seals = _scalar(topo, CITY, "SELECT max(seal_no) FROM audit_seal")
    assert seals >= 3

    code, clean = _verify(topo, CITY, "--against-parent")
    assert code == 0 and clean["ok"] is True, clean
    auditor = _token(topo, CITY, "审计员终端", "--role", "auditor")
    r = _verify_api(topo, CITY, auditor)
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    assert r.json()["anchoring"]["compared_with_parent"] is True
    assert r.json()["anchoring"]["parent_holds_up_to"] >= seals
    denied = _verify_api(topo, CITY, token)  # a department's token: auditors only
    assert denied.status_code == 403 and denied.json()["error"] == "RoleForbidden"
    top_auditor = _token(topo, PROVINCE, "省审计员", "--role", "auditor")
    orphan = _verify_api(topo, PROVINCE, top_auditor)
    assert orphan.status_code == 409 and orphan.json()["error"] == "NoParent", orphan.text
    city_key = KeyPair.load(topo.by_code[CITY].home / "node.key").key_id
    assert clean["signed_by"] == [{"first_seal": 1, "last_seal": seals, "key_id": city_key}]
    assert clean["anchoring"]["anchor"] == PROVINCE
    assert clean["anchoring"]["parent_holds_up_to"] == seals
    code, top = _verify(topo, PROVINCE)
    assert code == 0 and any("unanchored" in w for w in top["warnings"]), top

    # The insider: drop the triggers, delete the last two seals, their entries and the
    # countersignatures kept for them, so that the city's own records agree with each other.
    with _db(topo, CITY) as conn:
        for table in ("audit_entry", "audit_seal", "audit_anchor"):
            for event in ("update", "delete"):
                conn.execute(f"DROP TRIGGER {table}_no_{event}")
        keep = seals - 2
        (high,) = conn.execute(
            "SELECT high_id FROM audit_seal WHERE seal_no = ?", (keep,)
        ).fetchone()
        conn.execute("DELETE FROM audit_entry WHERE id > ?", (high,))
        conn.execute("DELETE FROM audit_seal WHERE seal_no > ?", (keep,))
        conn.execute("DELETE FROM audit_anchor WHERE seal_no > ?", (keep,))

    code, local = _verify(topo, CITY)
    assert code == 0 and local["ok"] is True, "the city's own database cannot tell"
    code, report = _verify(topo, CITY, "--against-parent")
    assert code == 1 and report["ok"] is False
    truncated = (
        f"seals {keep + 1}..{seals} were held by parent {PROVINCE} but are missing here: "
        "the chain was truncated"
    )
    assert truncated in report["problems"], report["problems"]
    r = _verify_api(topo, CITY, auditor)  # the same verdict through the API
    assert r.status_code == 200 and r.json()["ok"] is False
    assert truncated in r.json()["problems"], r.json()["problems"]

    # The city goes on sealing new entries onto the shortened chain: the province refuses to
    # countersign the rewritten seal and keeps what it countersigned before.
    _refused_reads(topo, token, 2)
    _wait(
        "a new city seal", lambda: _scalar(topo, CITY, "SELECT max(seal_no) FROM audit_seal") > keep
    )
    time.sleep(2)  # a sealing pass or two: the province has answered
    held = topo.hub(PROVINCE, "audit", "held")
    assert held.returncode == 0, held.stderr
    by_child = {c["child"]: c for c in json.loads(held.stdout)}
    assert by_child[CITY]["last_seal"] == seals, "the province's copy is untouched"
    heads = json.loads(topo.hub(PROVINCE, "audit", "held", "--child", CITY).stdout)
    assert [h["seal_no"] for h in heads] == list(range(1, seals + 1))
    province_log = (topo.by_code[PROVINCE].home / "node.log").read_text()
    assert "contradicts the heads countersigned" in province_log
    code, report = _verify(topo, CITY, "--against-parent")
    assert code == 1
    assert any(f"forked at seal {keep + 1}" in p for p in report["problems"]), report["problems"]
    forked = _verify_api(topo, CITY, auditor).json()["problems"]
    assert any(f"forked at seal {keep + 1}" in p for p in forked), forked
    assert _scalar(topo, CITY, "SELECT max(seal_no) FROM audit_anchor") == keep
    log = (topo.by_code[CITY].home / "node.log").read_text()
    assert "ForkedChain" in log
