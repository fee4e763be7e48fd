"""The parent's side of audit anchoring: what it countersigns for a child, and what it refuses."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.runtime import Runtime
from exchange.core.signing import KeyPair
from exchange.directory import keys
from exchange.directory import repository as directory
from exchange.directory.models import Node
from exchange.platforms.sharing.audit.anchor import countersign_message
from exchange.platforms.sharing.audit.chain import GENESIS, seal_hash
from exchange.platforms.sharing.models import AuditSeal

DISTRICT, PROVINCE = "330102000000", "330000000000"
ANCHORS = "/sharing/v1/audit/anchors"


def _neighbour(db: Session, code: str, level: str) -> KeyPair:
    pair = KeyPair.generate()
    directory.save_node(db, Node(code=code, level=level, name=code, url=None, is_self=False))
    keys.ensure(db, keys.KeyOwner(keys.NODE, code), pair.public_b64)
    db.commit()
    return pair


@pytest.fixture
def district(city: TestClient, db: Session) -> KeyPair:
    return _neighbour(db, DISTRICT, "district")


def _head(no: int, prev: str, pair: KeyPair, *, entries: int = 1) -> dict:
    s = AuditSeal(
        seal_no=no,
        sealed_at=dt.datetime(2026, 12, 4, 19, 0, no, tzinfo=dt.UTC),
        ranges=[[no, no]],
        entries=entries,
        high_id=no,
        pending=[],
        lost=[],
        digest=hashlib.sha256(f"{no}/{entries}".encode()).hexdigest(),
        prev_hash=prev,
    )
    s.hash = seal_hash(s)
    return {
        "seal_no": no,
        "sealed_at": s.sealed_at.isoformat(),
        "ranges": s.ranges,
        "entries": entries,
        "high_id": no,
        "pending": [],
        "lost": [],
        "digest": s.digest,
        "prev_hash": prev,
        "hash": s.hash,
        "signature": pair.sign(s.hash.encode()),
        "key_id": pair.key_id,
    }


def _chain(pair: KeyPair, n: int) -> list[dict]:
    heads, prev = [], GENESIS
    for no in range(1, n + 1):
        heads.append(_head(no, prev, pair))
        prev = heads[-1]["hash"]
    return heads


def _send(city: TestClient, code: str, pair: KeyPair, heads: list[dict]):  # type: ignore[no-untyped-def]
    body = json.dumps({"heads": heads}).encode()
    digest = hashlib.sha256(body).hexdigest()
    auth = signing.authorization_header(
        signing.qualified_key_id(code, pair), pair, "POST", ANCHORS, digest
    )
    return city.post(
        ANCHORS,
        content=body,
        headers={"Authorization": auth, "X-Content-SHA256": digest,
                 "Content-Type": "application/json"},
    )  # fmt: skip


def test_a_childs_heads_are_countersigned_kept_and_listed(
    city: TestClient, district: KeyPair, runtime: Runtime
) -> None:
    heads = _chain(district, 3)
    r = _send(city, DISTRICT, district, heads)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["key_id"] == runtime.node_keys.key_id
    for c in receipt["countersigned"]:
        at = dt.datetime.fromisoformat(c["anchored_at"])
        message = countersign_message(DISTRICT, c["seal_no"], c["seal_hash"], at)
        assert signing.verify(runtime.node_keys.public_b64, message, c["countersignature"])
    again = _send(city, DISTRICT, district, heads[1:])
    assert again.json()["countersigned"] == receipt["countersigned"][1:], "idempotent"
    target = f"{ANCHORS}/{DISTRICT}?after=0&limit=1000"
    auth = signing.authorization_header(
        signing.qualified_key_id(DISTRICT, district), district, "GET", target
    )
    held = city.get(target, headers={"Authorization": auth}).json()
    assert [h["seal_no"] for h in held["heads"]] == [1, 2, 3] and held["next_after"] is None


def test_a_rewritten_or_unlinked_head_is_refused_as_a_fork(
    city: TestClient, district: KeyPair
) -> None:
    heads = _chain(district, 3)
    assert _send(city, DISTRICT, district, heads).status_code == 200
    rewritten = _head(3, heads[1]["hash"], district, entries=0)  # seal 3 again, other content
    r = _send(city, DISTRICT, district, [rewritten])
    assert r.status_code == 409 and r.json()["error"] == "ForkedChain"
    assert "seal 3 of 330102000000 differs" in r.json()["detail"]
    unlinked = _head(4, "f" * 64, district)
    r = _send(city, DISTRICT, district, [unlinked])
    assert r.status_code == 409 and "does not link to seal 3" in r.json()["detail"]


def test_altered_or_unsigned_heads_are_refused(city: TestClient, district: KeyPair) -> None:
    altered = _chain(district, 1)[0] | {"entries": 5}
    r = _send(city, DISTRICT, district, [altered])
    assert r.status_code == 400 and r.json()["error"] == "HeadAltered"
    stranger = KeyPair.generate()
    foreign = _chain(stranger, 1)[0] | {"key_id": district.key_id}
    r = _send(city, DISTRICT, district, [foreign])
    assert r.status_code == 403 and r.json()["error"] == "HeadNotSigned"


def test_only_children_anchor_and_only_signed_calls_are_heard(
    city: TestClient, db: Session, district: KeyPair
) -> None:
    province = _neighbour(db, PROVINCE, "province")
    r = _send(city, PROVINCE, province, _chain(province, 1))
    assert r.status_code == 403 and r.json()["error"] == "NotMyChild"
    r = _send(city, DISTRICT, KeyPair.generate(), _chain(district, 1))
    assert r.status_code == 401
    body = json.dumps({"heads": _chain(district, 1)}).encode()
    r = city.post(ANCHORS, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["error"] == "MissingCredentials"


@pytest.mark.both_backends
def test_the_child_finds_its_truncated_chain_in_the_countersignatures_it_kept(
    db: Session, runtime: Runtime
) -> None:
    from exchange.platforms.sharing.audit import anchor
    from exchange.platforms.sharing.audit import chain as audit_chain
    from exchange.platforms.sharing.audit.log import AuditLog, ReadContext
    from exchange.platforms.sharing.audit.schemas import AnchorReceipt, Countersigned
    from tests.platforms.sharing.audit.test_audit import WHO, _bypass_append_only

    province = _neighbour(db, PROVINCE, "province")
    me = runtime.settings.node_code
    log = AuditLog(runtime.settings.secret_key.get_secret_value())
    for _ in range(3):
        log.record(db, ReadContext(WHO, "api"), action="record", resource="population",
                   grant_id=None, keys=["k"], rows=1)  # fmt: skip
        audit_chain.seal(db, runtime.node_keys)
    heads = anchor.heads_to_anchor(db)
    at = dt.datetime.now(dt.UTC)
    receipt = AnchorReceipt(
        anchor=PROVINCE,
        key_id=province.key_id,
        countersigned=[
            Countersigned(
                seal_no=h.seal_no,
                seal_hash=h.hash,
                countersignature=province.sign(countersign_message(me, h.seal_no, h.hash, at)),
                anchored_at=at,
            )
            for h in heads
        ],
    )
    assert anchor.keep_receipt(db, me, PROVINCE, heads, receipt) == 3

    def report() -> audit_chain.AuditReport:
        found = audit_chain.verify(db, [runtime.node_keys.public_b64], log)
        return anchor.check_anchors(db, found, me=me, parent=PROVINCE)

    clean = report()
    assert clean.ok and clean.anchoring and clean.anchoring.countersigned_up_to == 3
    unanchored = anchor.check_anchors(db, audit_chain.verify(db, [runtime.node_keys.public_b64],
                                                             log), me=me, parent=None)  # fmt: skip
    assert any("unanchored" in w for w in unanchored.warnings)
    _bypass_append_only(db)
    high = db.get(AuditSeal, 2).high_id  # type: ignore[union-attr]
    db.execute(text("DELETE FROM audit_entry WHERE id > :h"), {"h": high})
    db.execute(text("DELETE FROM audit_seal WHERE seal_no = 3"))
    truncated = report()
    assert not truncated.ok
    assert truncated.problems == [
        f"seal 3 was countersigned by parent {PROVINCE} (kept here) but is missing here: "
        "the chain was truncated"
    ]
