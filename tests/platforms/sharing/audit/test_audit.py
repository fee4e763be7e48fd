"""The audit log: written before the response, append-only, sealed, and any tampering shows."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from exchange.core.runtime import Runtime
from exchange.directory import keys
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.audit import chain as audit_chain
from exchange.platforms.sharing.audit.log import AuditLog, ReadContext, canonical
from exchange.platforms.sharing.models import AuditEntry
from tests.builders import rotate_node_key
from tests.platforms.sharing.builders import PURPOSE, Caller, grant, load_people

pytestmark = pytest.mark.both_backends
WHO = Principal("client", uuid.uuid4(), "c1", Role.department, "330100000000", uuid.uuid4(), "MZ")


@pytest.fixture
def log(runtime: Runtime) -> AuditLog:
    return AuditLog(runtime.settings.secret_key.get_secret_value())


def _write(db: Session, log: AuditLog, n: int, **kw: object) -> list[int]:
    ctx = ReadContext(WHO, "api", "核验身份", "MZ-1", None)
    kw = {"action": "record", "resource": "population", "grant_id": None, "rows": 1} | kw
    ids = [log.record(db, ctx, keys=[f"k{i}"], **kw) for i in range(n)]
    db.commit()
    return ids


def _bypass_append_only(db: Session) -> None:
    """What an attacker with database superuser rights would do first."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        db.execute(text("ALTER TABLE audit_seal DISABLE TRIGGER USER"))
    else:
        for t in ("audit_entry", "audit_seal"):
            for e in ("update", "delete"):
                db.execute(text(f"DROP TRIGGER {t}_no_{e}"))


def _verify(db: Session, runtime: Runtime, log: AuditLog) -> audit_chain.AuditReport:
    return audit_chain.verify(db, [runtime.node_keys.public_b64], log)


@pytest.fixture
def people(city: TestClient) -> pa.Table:
    return load_people(city, 5)


def test_a_read_is_audited_with_who_why_what_and_how_much(
    consumer: Caller, provider: Caller, auditor: Caller, people: pa.Table
) -> None:
    app = grant(consumer, provider)
    consumer.extra = PURPOSE
    key = people["id_number"][0].as_py()
    assert consumer.get(f"/sharing/v1/resources/population/records/{key}").status_code == 200
    entry = auditor.get("/sharing/v1/audit").json()["items"][-1]
    assert (
        entry["actor"].startswith(f"client:{consumer.client_id} ") and entry["role"] == "department"
    )
    assert entry["department"] == "330100000000/MZ" and entry["grant_id"] == app["grant_id"]
    assert (entry["resource"], entry["keys"], entry["rows"]) == ("population", [key], 1)
    assert (entry["purpose"], entry["case_number"]) == ("核验身份", "MZ-2024-001")
    assert (entry["channel"], entry["action"], entry["outcome"]) == ("api", "record", "ok")


def test_no_data_leaves_unless_its_audit_entry_was_written(
    consumer: Caller, provider: Caller, people: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(consumer, provider)
    consumer.extra = PURPOSE

    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("audit storage unavailable")

    monkeypatch.setattr(AuditLog, "record_read", broken)
    key = people["id_number"][0].as_py()
    http = TestClient(consumer.http.app, raise_server_exceptions=False)
    r = http.get(f"/sharing/v1/resources/population/records/{key}", headers=consumer.headers)
    assert r.status_code == 500 and "record" not in r.json()
    assert key[-4:] not in r.text


def test_refused_reads_are_audited_too(consumer: Caller, auditor: Caller, people: pa.Table) -> None:
    consumer.extra = PURPOSE
    key = people["id_number"][0].as_py()
    assert consumer.get(f"/sharing/v1/resources/population/records/{key}").status_code == 403
    entry = auditor.get("/sharing/v1/audit").json()["items"][-1]
    assert (entry["outcome"], entry["rows"], entry["resource"]) == ("NoGrant", 0, "population")


def test_the_database_refuses_to_change_or_remove_entries(db: Session, log: AuditLog) -> None:
    _write(db, log, 2)
    for statement in ("UPDATE audit_entry SET rows = 0", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
            db.execute(text(statement))
    assert len(db.scalars(select(AuditEntry)).all()) == 2


def test_the_code_has_no_path_that_updates_or_deletes_audit_rows() -> None:
    root = Path(__file__).parents[4] / "exchange"
    assert (root / "platforms" / "sharing").is_dir()
    pattern = re.compile(
        r"(update|delete)\(\s*(AuditEntry|AuditSeal|_T)\b|(UPDATE|DELETE FROM) audit_"
    )
    offenders = [
        str(p)
        for p in root.rglob("*.py")
        if "migrations" not in p.parts and pattern.search(p.read_text())
    ]
    assert offenders == []


def test_an_entry_mac_covers_the_plain_json_of_its_columns(log: AuditLog) -> None:
    """The MAC's input stays the plain JSON array it always was (entries written by earlier
    releases must still verify), and `macs` agrees with `mac` for every row count."""
    ctx = ReadContext(WHO, "api", "核验身份", "C-1", "req-1")
    values = log.content(
        ctx, action="record", resource="population", grant_id=uuid.uuid4(), keys=["k"], rows=7
    )
    plain = [
        values["at"].astimezone(dt.UTC).isoformat(timespec="microseconds"),
        *(
            str(v) if isinstance(v, uuid.UUID) else v
            for k, v in values.items()
            if k not in ("at", "caller_request_id")
        ),
    ]
    expected = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    assert values["caller_request_id"] is None
    assert canonical(values) == expected.encode(), "an entry without the later column"
    hit, miss = log.macs(values, rows=(7, 0))
    assert hit == log.mac(values) and miss == log.mac(values | {"rows": 0}) and hit != miss
    traced = values | {"caller_request_id": "dept-7"}
    later = json.dumps([*plain, ["caller_request_id", "dept-7"]], ensure_ascii=False,
                       separators=(",", ":"))  # fmt: skip
    assert canonical(traced) == later.encode() and log.mac(traced) != log.mac(values)
    hit, miss = log.macs(traced, rows=(7, 0))
    assert hit == log.mac(traced) and miss == log.mac(traced | {"rows": 0})


def test_a_clean_log_verifies(db: Session, runtime: Runtime, log: AuditLog) -> None:
    _write(db, log, 5)
    first = audit_chain.seal(db, runtime.node_keys)
    _write(db, log, 3)
    second = audit_chain.seal(db, runtime.node_keys)
    assert first and second and (first.entries, second.entries) == (5, 3)
    assert second.prev_hash == first.hash
    assert audit_chain.seal(db, runtime.node_keys) is None, "nothing new: no empty seal"
    report = _verify(db, runtime, log)
    assert report.ok and report.entries_sealed >= 8 and report.problems == []


def test_seals_made_before_a_node_key_rotation_still_verify(
    db: Session, runtime: Runtime, log: AuditLog
) -> None:
    _write(db, log, 2)
    assert audit_chain.seal(db, runtime.node_keys)
    old, new = rotate_node_key(db, runtime)
    keys.retire(db, keys.KeyOwner(keys.NODE, runtime.settings.node_code), old.key_id)
    _write(db, log, 2)
    assert audit_chain.seal(db, runtime.node_keys)
    history = keys.own_history(db, runtime.settings.node_code, runtime.node_keys)
    assert history == [old.public_b64, new.public_b64]
    report = audit_chain.verify(db, history, log)
    assert report.ok
    assert [(s.first_seal, s.last_seal, s.key_id) for s in report.signed_by] == [
        (1, 1, old.key_id),
        (2, 2, new.key_id),
    ]
    only_new = audit_chain.verify(db, [new.public_b64], log)
    assert only_new.problems == [
        f"seal 1 does not carry this node's signature (it names key {old.key_id})"
    ]


def test_an_edited_sealed_entry_is_detected(db: Session, runtime: Runtime, log: AuditLog) -> None:
    ids = _write(db, log, 4)
    audit_chain.seal(db, runtime.node_keys)
    _bypass_append_only(db)
    db.execute(text("UPDATE audit_entry SET purpose = '例行检查' WHERE id = :i"), {"i": ids[1]})
    report = _verify(db, runtime, log)
    assert not report.ok
    assert f"entry {ids[1]} (seal 1) was altered" in report.problems


def test_a_deleted_sealed_entry_is_detected(db: Session, runtime: Runtime, log: AuditLog) -> None:
    ids = _write(db, log, 4)
    audit_chain.seal(db, runtime.node_keys)
    _bypass_append_only(db)
    db.execute(text("DELETE FROM audit_entry WHERE id = :i"), {"i": ids[2]})
    report = _verify(db, runtime, log)
    assert f"entry {ids[2]} (seal 1) was deleted" in report.problems


def test_reordered_entries_are_detected(db: Session, runtime: Runtime, log: AuditLog) -> None:
    a, b = _write(db, log, 2)
    audit_chain.seal(db, runtime.node_keys)
    _bypass_append_only(db)
    # Swap the two rows' positions: each keeps its own (valid) MAC, only the order changes.
    db.execute(text("UPDATE audit_entry SET id = -1 WHERE id = :a"), {"a": a})
    db.execute(text("UPDATE audit_entry SET id = :a WHERE id = :b"), {"a": a, "b": b})
    db.execute(text("UPDATE audit_entry SET id = :b WHERE id = -1"), {"b": b})
    report = _verify(db, runtime, log)
    assert "seal 1: entries were altered or reordered" in report.problems


def test_an_entry_edited_before_it_was_sealed_is_caught_after_sealing(
    db: Session, runtime: Runtime, log: AuditLog
) -> None:
    ids = _write(db, log, 3)
    _bypass_append_only(db)
    db.execute(text("UPDATE audit_entry SET rows = 0 WHERE id = :i"), {"i": ids[0]})
    audit_chain.seal(db, runtime.node_keys)  # seals the edited row as it now is
    report = _verify(db, runtime, log)
    assert f"entry {ids[0]} (seal 1) was altered" in report.problems


def test_a_forged_or_removed_seal_is_detected(db: Session, runtime: Runtime, log: AuditLog) -> None:
    _write(db, log, 2)
    audit_chain.seal(db, runtime.node_keys)
    _write(db, log, 2)
    audit_chain.seal(db, runtime.node_keys)
    _bypass_append_only(db)
    db.execute(text("UPDATE audit_seal SET entries = 1 WHERE seal_no = 2"))
    assert "seal 2 was altered after it was signed" in _verify(db, runtime, log).problems
    db.execute(text("DELETE FROM audit_seal WHERE seal_no = 1"))
    problems = _verify(db, runtime, log).problems
    assert "seals 1..1 are missing" in problems
    assert "seal 2 does not link to the seal before it" in problems


def test_late_commits_are_sealed_later_and_lost_ids_are_reported(
    db: Session, runtime: Runtime, log: AuditLog
) -> None:
    ctx = ReadContext(WHO, "api", None, None, None)
    (base,) = _write(db, log, 1)
    audit_chain.seal(db, runtime.node_keys)  # everything up to `base` is sealed

    def at(entry_id: int) -> None:  # an entry whose id was taken by a transaction still open
        kw = {"action": "record", "resource": "population", "grant_id": None, "rows": 1}
        values = log.values(ctx, keys=[str(entry_id)], **kw)
        db.add(AuditEntry(id=entry_id, **values))
        db.flush()

    at(base + 1)
    at(base + 4)
    first = audit_chain.seal(db, runtime.node_keys)
    # (ids below `base` may be pending too: other tests' rolled-back entries used them)
    assert first is not None and [i for i, _ in first.pending if i > base] == [base + 2, base + 3]
    at(base + 2)  # commits late
    second = audit_chain.seal(db, runtime.node_keys)
    assert second is not None and second.ranges == [[base + 2, base + 2]]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=audit_chain.PENDING_WINDOW_S + 5)
    third = audit_chain.seal(db, runtime.node_keys, now=later)
    assert third is not None and base + 3 in third.lost and third.pending == []
    report = _verify(db, runtime, log)
    assert report.ok and any(str(base + 3) in w for w in report.warnings)


def test_an_entry_left_unsealed_too_long_is_a_problem(
    db: Session, runtime: Runtime, log: AuditLog
) -> None:
    ids = _write(db, log, 1)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    report = audit_chain.verify(db, runtime.node_keys.public_b64, log, now=later)
    assert any(f"entry {ids[0]} is unsealed" in p for p in report.problems)


def test_auditors_verify_through_the_api(
    consumer: Caller, provider: Caller, auditor: Caller, people: pa.Table
) -> None:
    grant(consumer, provider)
    consumer.extra = PURPOSE
    consumer.get(f"/sharing/v1/resources/population/records/{people['id_number'][0].as_py()}")
    report = auditor.get("/sharing/v1/audit/verify").json()
    assert report["ok"] is True and report["entries_unsealed"] >= 1


def test_entries_name_the_client_and_its_creator_and_providers_see_who_read(
    city: TestClient, consumer: Caller, provider: Caller, auditor: Caller
) -> None:
    people = load_people(city, 5)
    grant(consumer, provider)
    consumer.extra = PURPOSE
    key = people["id_number"][0].as_py()
    assert consumer.get(f"/sharing/v1/resources/population/records/{key}").status_code == 200
    entry = auditor.get("/sharing/v1/audit", params={"resource": "population"}).json()["items"][-1]
    assert entry["actor"].startswith(f"client:{consumer.client_id} department-MZ (by test)")
    seen = provider.get("/sharing/v1/audit/reads", params={"resource": "population"})
    assert seen.status_code == 200
    assert any(e["department"].endswith("/MZ") for e in seen.json()["items"])
    r = consumer.get("/sharing/v1/audit/reads", params={"resource": "population"})
    assert r.status_code == 403 and r.json()["error"] == "NotProvider"
