"""The keyed lookup as production runs it on PostgreSQL: on the event loop, in one statement.

The rest of the suite shares one rolled-back connection, which the event-loop path cannot use,
so these tests run against a database of their own with real commits.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from exchange.app import create_app
from exchange.core.db import session_scope, utcnow
from exchange.core.errors import Unavailable
from exchange.core.runtime import Runtime, build_runtime
from exchange.core.settings import Settings
from exchange.lifecycle import prepare_database
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.audit import chain as audit_chain
from exchange.platforms.sharing.audit.log import AuditLog
from exchange.platforms.sharing.models import ApiClient, AuditEntry
from exchange.platforms.sharing.records.fast_reads import AsyncReader, AuditGroup
from exchange.testing.postgres import LocalPostgres
from tests.builders import seed_city
from tests.platforms.sharing.builders import (
    PURPOSE,
    Caller,
    ensure_department,
    grant,
    load_people,
    make_caller,
)

RECORD = "/sharing/v1/resources/population/records/{}"


@pytest.fixture
def committed(pg_server: LocalPostgres, tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    url = pg_server.create_database(f"sharing_fast_{uuid.uuid4().hex[:8]}")
    settings = Settings(
        env="test",
        secret_key="test-secret-not-for-production",
        var_dir=tmp_path,
        database_url=url,
        relay_interval_s=0,
        janitor_interval_s=0,
        sharing={"seal_interval_s": 0},
    )
    rt = build_runtime(settings)
    prepare_database(rt.engine, rt.schemas)
    with session_scope(rt.sessions) as s:
        seed_city(s, settings)
        ensure_department(s, settings, "MZ", "民政局")
    with TestClient(create_app(settings, runtime=rt)) as http:
        yield http, rt
    rt.close()


@dataclass
class Scene:
    http: TestClient
    rt: Runtime
    consumer: Caller
    provider: Caller
    people: pa.Table


@pytest.fixture
def scene(committed: tuple[TestClient, Runtime]) -> Scene:
    """民政局 holds a grant for population; ten residents are loaded."""
    http, rt = committed
    with rt.sessions() as s:
        consumer = make_caller(http, s, rt.settings, Role.department, "MZ")
        provider = make_caller(http, s, rt.settings, Role.department, "GA")
    people = load_people(http, 10)
    grant(consumer, provider)
    consumer.extra = PURPOSE
    return Scene(http, rt, consumer, provider, people)


def _entries(rt: Runtime) -> list[AuditEntry]:
    with rt.sessions() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all())


def test_the_event_loop_path_serves_masked_records_and_audits_each(scene: Scene) -> None:
    assert scene.http.app.state.sharing.fast is not None, "PostgreSQL engine: event-loop path"
    key = scene.people["id_number"][0].as_py()
    r = scene.consumer.get(RECORD.format(key))
    assert r.status_code == 200, r.text
    assert r.json()["record"]["id_number"] == key[:6] + "********" + key[-4:]
    miss = scene.consumer.get(RECORD.format("11010519491231002X"))
    assert miss.status_code == 404
    hit_entry, miss_entry = _entries(scene.rt)[-2:]
    assert (hit_entry.keys, hit_entry.rows, miss_entry.rows) == ([key], 1, 0)
    log = AuditLog(scene.rt.settings.secret_key.get_secret_value())
    assert log.mac_ok(hit_entry) and log.mac_ok(miss_entry), "the MAC matches the row count"
    with session_scope(scene.rt.sessions) as s:
        audit_chain.seal(s, scene.rt.node_keys)
        assert audit_chain.verify(s, scene.rt.node_keys.public_b64, log).ok


def test_revocation_stops_the_next_read_and_the_refusal_is_audited(scene: Scene) -> None:
    url = RECORD.format(scene.people["id_number"][0].as_py())
    assert scene.consumer.get(url).status_code == 200
    gid = scene.consumer.get("/sharing/v1/allowed").json()["resources"][0]["grant_id"]
    scene.provider.post(f"/sharing/v1/grants/{gid}/revoke", json={"reason": "用途已结束"})
    before = len(_entries(scene.rt))
    r = scene.consumer.get(url)
    assert r.status_code == 403 and r.json()["error"] == "GrantRevoked"
    entries = _entries(scene.rt)
    assert len(entries) == before + 1
    assert (entries[-1].outcome, entries[-1].rows) == ("GrantRevoked", 0)


def test_a_revoked_client_is_refused_on_the_event_loop_path(scene: Scene) -> None:
    url = RECORD.format(scene.people["id_number"][1].as_py())
    assert scene.consumer.get(url).status_code == 200
    with session_scope(scene.rt.sessions) as s:
        s.execute(
            update(ApiClient)
            .where(ApiClient.id == scene.consumer.client_id)
            .values(revoked_at=ApiClient.created_at)
        )
    r = scene.consumer.get(url)
    assert r.status_code == 403 and r.json()["error"] == "ClientRevoked"


def test_concurrent_reads_each_get_their_own_entry(scene: Scene) -> None:
    keys = [str(k) for k in scene.people["id_number"].to_pylist()] * 4
    before = len(_entries(scene.rt))

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=scene.http.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            answers = await asyncio.gather(
                *(c.get(RECORD.format(k), headers=scene.consumer.headers) for k in keys)
            )
        return [a.status_code for a in answers]

    assert asyncio.run(burst()) == [200] * len(keys)
    new = _entries(scene.rt)[before:]
    assert len(new) == len(keys) and len({e.id for e in new}) == len(keys)
    assert sorted(e.keys[0] for e in new) == sorted(keys)


def _reader_and_group(rt: Runtime) -> tuple[AsyncReader, AuditGroup]:
    url = rt.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    reader = AsyncReader(url, size=2)
    return reader, AuditGroup(reader)


def _entry(log: AuditLog, n: int, **changes: object) -> dict[str, object]:
    values = {
        "at": utcnow(),
        "channel": "api",
        "action": "record",
        "actor": "client:test",
        "role": "department",
        "department": "330100000000/MZ",
        "grant_id": None,
        "resource": "population",
        "keys": [f"key-{n}"],
        "rows": 1,
        "purpose": "核验",
        "case_number": f"CASE-{n}",
        "outcome": "ok",
        "request_id": f"req-{n}",
        **changes,
    }
    values["mac"] = log.mac(values)
    return values


def test_concurrent_entries_are_committed_together_and_each_waits_for_its_own(
    committed: tuple[TestClient, Runtime],
) -> None:
    _, rt = committed
    log = AuditLog(rt.settings.secret_key.get_secret_value())

    async def burst() -> None:
        reader, group = _reader_and_group(rt)
        await asyncio.gather(*(group.append(_entry(log, n)) for n in range(40)))
        await reader.close()

    asyncio.run(burst())
    with rt.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT count(*), count(DISTINCT xmin::text) FROM audit_entry "
            "WHERE request_id LIKE 'req-%%'"
        ).one()
    entries, transactions = rows
    assert entries == 40  # every append returned after its entry was committed
    assert transactions < 40  # and they shared transactions: one INSERT took several
    assert all(log.mac_ok(e) for e in _entries(rt))


def test_an_entry_the_database_refuses_fails_only_its_own_read(
    committed: tuple[TestClient, Runtime],
) -> None:
    _, rt = committed
    log = AuditLog(rt.settings.secret_key.get_secret_value())

    async def burst() -> list[BaseException | None]:
        reader, group = _reader_and_group(rt)
        entries = [_entry(log, n) for n in range(6)]
        entries[3] = _entry(log, 3, channel="far-too-long-a-channel")  # varchar(8)
        outcomes = await asyncio.gather(*(group.append(e) for e in entries), return_exceptions=True)
        await reader.close()
        return outcomes

    outcomes = asyncio.run(burst())
    assert [o is None for o in outcomes] == [True, True, True, False, True, True]
    assert isinstance(outcomes[3], Unavailable)
    kept = {e.request_id for e in _entries(rt)}
    assert kept >= {f"req-{n}" for n in (0, 1, 2, 4, 5)} and "req-3" not in kept
