"""Calls across levels on a real province + city + district: a district department reads a
province resource through its own node, hop by hop; every hop audits and times its part; the
level rule, forged and replayed relays and a hop that is down are each refused as such."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from exchange import cluster
from exchange.core import signing
from exchange.core.signing import KeyPair
from exchange.platforms.sharing.vertical import applying
from exchange.testing.grants import direct_grant
from tests.test_cluster import Topology, connector

pytestmark = pytest.mark.slow
PROVINCE, CITY = cluster.PROVINCE, cluster.CITY
DISTRICT = "330102000000"
RELAY_TIMEOUT_S = 3.0
ADDRESS = "ZJ-VERT-0001"


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    t = Topology(tmp_path_factory.mktemp("cluster-vertical"))
    extra = {n.code: {"sharing": {"relay_timeout_s": RELAY_TIMEOUT_S}} for n in t.nodes}
    t.procs = cluster.start(t.nodes, None, [], extra=extra)
    try:
        cluster.wait_ready(t.nodes)
        _publish_at_province(t, tmp_path_factory.mktemp("zrzy"))
        yield t
    finally:
        cluster.stop(t.procs)


def _publish_at_province(topo: Topology, folder: Path) -> None:
    connector(topo, PROVINCE, "ZRZY", folder)
    csv = folder / "addresses.csv"
    csv.write_text(
        "address_id,kind,name,division,longitude,latitude\n"
        f"{ADDRESS},school,浙江大学紫金港校区,330106000000,120.08,30.30\n"
        "ZJ-VERT-0002,hospital,浙江省人民医院,330105000000,120.17,30.28\n"
    )
    pushed = topo.hub(
        PROVINCE, "connector", "push", "--resource", "geo_address", str(csv), "--dir", str(folder)
    )
    assert pushed.returncode == 0, pushed.stderr


def _engine(topo: Topology, code: str):  # type: ignore[no-untyped-def]
    return create_engine(f"sqlite:///{topo.by_code[code].home / 'hub.db'}")


FIELDS = ("address_id", "kind", "name", "division", "longitude", "latitude")


def grant_at_province(
    topo: Topology, department: str, resource: str, expires_in: dt.timedelta
) -> uuid.UUID:
    """The grant a cross-level application approved at the province would leave (applications
    across levels are not built yet): the district's department in the province's directory."""
    return direct_grant(
        _engine(topo, PROVINCE), provider=(PROVINCE, "ZRZY"), consumer=(DISTRICT, department),
        resource=resource, fields=FIELDS, expires_in=expires_in,
    )  # fmt: skip


def token_at(topo: Topology, code: str, name: str, *args: str) -> str:
    made = topo.hub(code, "client", "add", name, *args)
    assert made.returncode == 0, made.stderr
    client = json.loads(made.stdout)
    r = httpx.post(
        f"{topo.url(code)}/sharing/v1/token", data={"grant_type": "client_credentials", **client}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def district_dept(topo: Topology) -> str:
    assert topo.hub(DISTRICT, "department", "add", "JY", "上城区教育局").returncode == 0
    grant_at_province(topo, "JY", "geo_address", dt.timedelta(days=30))
    return token_at(topo, DISTRICT, "教育局学校布局系统", "--department", "JY")


@pytest.fixture(scope="module")
def district_auditor(topo: Topology) -> str:
    return token_at(topo, DISTRICT, "审计", "--role", "auditor")


def read(topo: Topology, token: str, path: str, provider: str = PROVINCE) -> httpx.Response:
    return httpx.get(
        f"{topo.url(DISTRICT)}/sharing/v1/resources/{path}",
        headers={"Authorization": f"Bearer {token}", "X-Provider-Node": provider},
        timeout=30,
    )


def audit_outcomes(topo: Topology, code: str, request_id: str) -> list[str]:
    db = topo.by_code[code].home / "hub.db"
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute(
            "SELECT outcome FROM audit_entry WHERE request_id = ? ORDER BY id", (request_id,)
        ).fetchall()
    return [r[0] for r in rows]


def wait_for_record(topo: Topology, token: str) -> httpx.Response:
    deadline = time.monotonic() + 40
    while True:  # the province loads the pushed batch asynchronously
        r = read(topo, token, f"geo_address/records/{ADDRESS}")
        if r.status_code != 404:
            return r
        assert time.monotonic() < deadline, r.text
        time.sleep(0.5)


def test_a_district_department_reads_a_province_record_through_the_city(
    topo: Topology, district_dept: str, district_auditor: str
) -> None:
    r = wait_for_record(topo, district_dept)
    assert r.status_code == 200, r.text
    assert r.json()["record"]["name"] == "浙江大学紫金港校区"
    assert r.headers["x-provider-node"] == PROVINCE
    rid = r.headers["x-request-id"]
    # every node on the way audited the call under the same request id
    for code in (DISTRICT, CITY, PROVINCE):
        assert audit_outcomes(topo, code, rid) == ["ok"], code

    trace = httpx.get(
        f"{topo.url(DISTRICT)}/sharing/v1/audit/trace/{rid}",
        headers={"Authorization": f"Bearer {district_auditor}"},
    ).json()
    assert trace["complete"] is True, trace
    hops = trace["hops"]
    assert [(h["node"], h["role"]) for h in hops] == [
        (DISTRICT, "origin"), (CITY, "relay"), (PROVINCE, "provider"),
    ]  # fmt: skip
    assert hops[0]["upstream"] == f"{DISTRICT}/JY" and hops[0]["downstream"] == CITY
    assert hops[1]["upstream"] == DISTRICT and hops[1]["downstream"] == PROVINCE
    assert hops[2]["upstream"] == CITY and hops[2]["downstream"] is None
    for h in hops:
        stamps = [h["request_in"], h["request_out"], h["response_in"], h["response_out"]]
        assert stamps == sorted(stamps), h
        assert h["status"] == 200 and h["audit_entry_ids"] and h["added_ms"] >= 0


def test_a_page_query_is_relayed_too(topo: Topology, district_dept: str) -> None:
    wait_for_record(topo, district_dept)
    r = read(topo, district_dept, "geo_address/records?division=330105000000")
    assert r.status_code == 200, r.text
    assert [i["address_id"] for i in r.json()["items"]] == ["ZJ-VERT-0002"]


def test_a_resource_not_shared_with_the_callers_level_is_refused_naming_the_rule(
    topo: Topology, district_dept: str
) -> None:
    r = read(topo, district_dept, "macro_indicator/records")
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["error"] == "NotSharedWithLevel"
    assert "shared with levels province" in body["detail"] and "share_levels" in body["detail"]
    assert audit_outcomes(topo, PROVINCE, r.headers["x-request-id"]) == ["NotSharedWithLevel"]


def test_a_department_without_a_grant_at_the_provider_is_refused(topo: Topology) -> None:
    assert topo.hub(DISTRICT, "department", "add", "WJ", "上城区卫健局").returncode == 0
    token = token_at(topo, DISTRICT, "卫健局系统", "--department", "WJ")
    r = read(topo, token, f"geo_address/records/{ADDRESS}")
    assert r.status_code == 403 and r.json()["error"] == "NoGrant", r.text
    assert f"{DISTRICT}/WJ" in r.json()["detail"]


def _relayed(
    topo: Topology, signer: str, keys: KeyPair, body: dict, key_id: str | None = None
) -> httpx.Request:
    raw = json.dumps(body).encode()
    digest = hashlib.sha256(raw).hexdigest()
    key_id = key_id or signing.qualified_key_id(signer, keys)
    auth = signing.authorization_header(key_id, keys, "POST", "/sharing/v1/vertical/read", digest)
    return httpx.Request(
        "POST",
        f"{topo.url(PROVINCE)}/sharing/v1/vertical/read",
        content=raw,
        headers={"Authorization": auth, "X-Content-SHA256": digest},
    )


def _body() -> dict:
    return {
        "request_id": uuid.uuid4().hex, "nonce": uuid.uuid4().hex, "origin": DISTRICT,
        "provider": PROVINCE, "caller": {"actor": "client:x", "department": "JY"},
        "action": "record", "resource": "geo_address", "key": ADDRESS, "budget_ms": 3000,
    }  # fmt: skip


def test_a_forged_relayed_request_is_refused(topo: Topology, district_dept: str) -> None:
    wait_for_record(topo, district_dept)
    city_key = KeyPair.load(topo.by_code[CITY].home / "node.key")
    city_key_id = signing.qualified_key_id(CITY, city_key)
    # signed with another key under the city's key id
    forged = _relayed(topo, CITY, KeyPair.generate(), _body(), key_id=city_key_id)
    with httpx.Client() as http:
        r = http.send(forged)
        assert r.status_code == 401 and r.json()["error"] == "InvalidSignature", r.text
        # signed by the city, then the body changed on the way (a wider grant asked for)
        tampered = _relayed(topo, CITY, city_key, _body())
        tampered = httpx.Request(
            "POST", tampered.url, headers=tampered.headers,
            content=tampered.content.replace(b'"JY"', b'"GA"'),
        )  # fmt: skip
        r = http.send(tampered)
    assert r.status_code == 401 and r.json()["error"] == "BodyNotSigned", r.text


def test_a_replayed_relayed_request_is_refused(topo: Topology, district_dept: str) -> None:
    wait_for_record(topo, district_dept)
    city_key = KeyPair.load(topo.by_code[CITY].home / "node.key")
    request = _relayed(topo, CITY, city_key, _body())
    with httpx.Client() as http:
        first = http.send(request)
        assert first.status_code == 200, first.text
        again = http.send(request)
    assert again.status_code == 401 and again.json()["error"] == "ReplayedRequest", again.text


def test_a_relay_from_the_wrong_direction_is_refused(topo: Topology) -> None:
    """The district signs a call claiming to come from another city's district: it cannot
    reach the province (not adjacent), and the city refuses what does not come its way."""
    keys = KeyPair.load(topo.by_code[DISTRICT].home / "node.key")
    body = {**_body(), "origin": "330201000000"}  # 宁波市's area: not behind this district
    request = _relayed(topo, DISTRICT, keys, body)
    request.url = httpx.URL(f"{topo.url(CITY)}/sharing/v1/vertical/read")
    r = httpx.Client().send(request)
    assert r.status_code == 403 and r.json()["error"] == "WrongDirection", r.text


def test_a_hop_that_does_not_answer_is_named_in_a_504_and_audited_on_both_sides(
    topo: Topology, district_dept: str
) -> None:
    wait_for_record(topo, district_dept)
    province = topo.procs[[n.code for n in topo.nodes].index(PROVINCE)]
    os.kill(province.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        r = read(topo, district_dept, f"geo_address/records/{ADDRESS}")
        took = time.monotonic() - started
    finally:
        os.kill(province.pid, signal.SIGCONT)
    assert r.status_code == 504, r.text
    assert r.json()["error"] == "HopTimeout"
    assert f"node {CITY} got no answer from the next hop, node {PROVINCE}" in r.json()["detail"]
    assert took < RELAY_TIMEOUT_S + 1
    rid = r.headers["x-request-id"]
    assert audit_outcomes(topo, DISTRICT, rid) == ["HopTimeout"]
    assert audit_outcomes(topo, CITY, rid) == ["HopTimeout"]


def restart(topo: Topology, code: str) -> None:
    index = [n.code for n in topo.nodes].index(code)
    node = topo.nodes[index]
    env = {
        **cluster.node_env(node, topo.nodes, None),
        "HUB_SHARING__RELAY_TIMEOUT_S": str(RELAY_TIMEOUT_S),
    }
    log = (node.home / "node.log").open("ab")
    topo.procs[index] = subprocess.Popen(
        cluster.hub("serve", "--port", str(node.port)), env=env, stdout=log, stderr=log
    )
    cluster.wait_ready([node])


def test_a_hop_that_is_down_is_named_in_a_502(topo: Topology, district_dept: str) -> None:
    wait_for_record(topo, district_dept)
    index = [n.code for n in topo.nodes].index(PROVINCE)
    proc = topo.procs[index]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    try:
        r = read(topo, district_dept, f"geo_address/records/{ADDRESS}")
        assert r.status_code == 502, r.text
        assert r.json()["error"] == "HopUnreachable"
        assert f"node {CITY} could not reach the next hop, node {PROVINCE}" in r.json()["detail"]
        rid = r.headers["x-request-id"]
        assert audit_outcomes(topo, CITY, rid) == ["HopUnreachable"]
        assert audit_outcomes(topo, DISTRICT, rid) == ["HopUnreachable"]
    finally:
        restart(topo, PROVINCE)
    assert wait_for_record(topo, district_dept).status_code == 200


def test_an_expired_grant_at_the_provider_is_refused_there(topo: Topology) -> None:
    assert topo.hub(DISTRICT, "department", "add", "CG", "上城区城管局").returncode == 0
    grant_at_province(topo, "CG", "geo_address", dt.timedelta(seconds=-1))
    token = token_at(topo, DISTRICT, "城管局系统", "--department", "CG")
    r = read(topo, token, f"geo_address/records/{ADDRESS}")
    assert r.status_code == 403 and r.json()["error"] == "GrantExpired", r.text
    assert audit_outcomes(topo, PROVINCE, r.headers["x-request-id"]) == ["GrantExpired"]


def federated(topo: Topology, token: str) -> dict[str, dict]:
    r = httpx.get(
        f"{topo.url(DISTRICT)}/sharing/v1/federation/catalog",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return {f"{e['provider_node']}/{e['code']}": e for e in r.json()["entries"]}


def wait_until(what: str, done, timeout_s: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def set_share_class(topo: Topology, code: str, resource: str, share_class: str) -> None:
    with sqlite3.connect(topo.by_code[code].home / "hub.db", timeout=30) as conn:
        conn.execute("UPDATE resource SET share_class = ? WHERE code = ?", (share_class, resource))


def test_the_district_catalogue_lists_what_the_province_shares_with_districts(
    topo: Topology, district_dept: str
) -> None:
    key = f"{PROVINCE}/geo_address"
    wait_until(
        "the province's entry at the district", lambda: key in federated(topo, district_dept)
    )
    entry = federated(topo, district_dept)[key]
    assert entry["via"] == CITY and entry["provider_department"] == "ZRZY"
    assert "district" in entry["share_levels"]
    listed = federated(topo, district_dept)
    # shared with the province's own level only (no share_levels): not listed below it
    assert f"{PROVINCE}/macro_indicator" not in listed and f"{PROVINCE}/population" not in listed
    assert not any(e["provider_node"] == DISTRICT for e in listed.values())

    # made 不予共享 at the province: gone from the district within seconds, and back
    set_share_class(topo, PROVINCE, "geo_address", "none")
    try:
        started = time.monotonic()
        wait_until("the closed entry to go", lambda: key not in federated(topo, district_dept))
        assert time.monotonic() - started < 15
    finally:
        set_share_class(topo, PROVINCE, "geo_address", "unconditional")
    wait_until("the entry to come back", lambda: key in federated(topo, district_dept))


def test_a_district_that_was_down_catches_up(topo: Topology, district_dept: str) -> None:
    key = f"{PROVINCE}/geo_address"
    wait_until(
        "the province's entry at the district", lambda: key in federated(topo, district_dept)
    )
    index = [n.code for n in topo.nodes].index(DISTRICT)
    topo.procs[index].send_signal(signal.SIGKILL)
    topo.procs[index].wait(timeout=10)
    set_share_class(topo, PROVINCE, "geo_address", "none")
    try:
        time.sleep(3)  # the city has dropped it meanwhile; the district heard nothing
        restart(topo, DISTRICT)
        wait_until("the district to catch up", lambda: key not in federated(topo, district_dept))
    finally:
        set_share_class(topo, PROVINCE, "geo_address", "unconditional")
    wait_until("the entry to come back", lambda: key in federated(topo, district_dept))


def apply_at_district(topo: Topology, token: str, resource: str) -> httpx.Response:
    return httpx.post(
        f"{topo.url(DISTRICT)}/sharing/v1/vertical/applications",
        headers={"Authorization": f"Bearer {token}", "X-Provider-Node": PROVINCE},
        json={
            "resource": resource,
            "purpose": "危房排查的地址核对",
            "legal_basis": "《政务数据共享条例》",
            "fields": ["address_id", "name", "division"],
            "duration_days": 30,
        },
        timeout=30,
    )


def test_an_application_across_levels_is_granted_at_the_provider_and_copied_signed(
    topo: Topology,
) -> None:
    assert topo.hub(DISTRICT, "department", "add", "ZJ", "上城区住建局").returncode == 0
    token = token_at(topo, DISTRICT, "住建局系统", "--department", "ZJ")
    wait_for_record(topo, token_at(topo, DISTRICT, "x", "--department", "JY"))

    r = apply_at_district(topo, token, "geo_address")
    assert r.status_code == 201, r.text
    decision = r.json()
    assert decision["provider_node"] == PROVINCE
    assert decision["document"]["status"] == "approved"  # 无条件: granted on application
    assert decision["document"]["applicant"] == f"{DISTRICT}/ZJ"
    province_key = KeyPair.load(topo.by_code[PROVINCE].home / "node.key")
    expires = dt.datetime.fromisoformat(decision["grant_expires_at"])
    message = applying.signed_message(decision["document"], expires)
    assert signing.verify(province_key.public_b64, message, decision["signature"])

    copies = httpx.get(
        f"{topo.url(DISTRICT)}/sharing/v1/vertical/grants",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert [(c["resource"], c["status"]) for c in copies] == [("geo_address", "approved")]
    got = read(topo, token, f"geo_address/records/{ADDRESS}")
    assert got.status_code == 200 and set(got.json()["record"]) == {
        "address_id",
        "name",
        "division",
    }

    # the grant expires at the province while the district's copy still says approved
    with sqlite3.connect(topo.by_code[PROVINCE].home / "hub.db", timeout=30) as conn:
        conn.execute(
            "UPDATE sharing_grant SET expires_at = ? WHERE id = ?",
            ("2020-01-01 00:00:00.000000", decision["document"]["grant_id"].replace("-", "")),
        )
    refused = read(topo, token, f"geo_address/records/{ADDRESS}")
    assert refused.status_code == 403 and refused.json()["error"] == "GrantExpired", refused.text
    copies = httpx.get(
        f"{topo.url(DISTRICT)}/sharing/v1/vertical/grants",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert [(c["status"], c["refused"]) for c in copies] == [("expired", "GrantExpired")]


def test_an_application_for_a_resource_not_shared_with_the_level_is_refused(
    topo: Topology, district_dept: str
) -> None:
    r = apply_at_district(topo, district_dept, "macro_indicator")
    assert r.status_code == 403 and r.json()["error"] == "NotSharedWithLevel", r.text
