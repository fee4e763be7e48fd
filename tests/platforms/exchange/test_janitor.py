"""Leftovers of killed uploads and loads are removed after the grace period, nothing else."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.platforms.exchange import janitor
from exchange.platforms.exchange.intake.service import payload_key
from tests.builders import indicators, make_connector, push, seed_city

pytestmark = pytest.mark.both_backends


def store_root(settings: Settings) -> Path:
    return Path(settings.resolved_store_url.removeprefix("file://"))


def leftover(settings: Settings, key: str, age: dt.timedelta) -> Path:
    path = store_root(settings) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half an upload")
    stamp = (utcnow() - age).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_old_partial_uploads_and_payloads_without_a_batch_go(
    client: TestClient, db: Session, settings: Settings, runtime: Runtime
) -> None:
    seed_city(db, settings)
    provider = make_connector(db, settings, department="TJ")
    db.commit()
    kept = push(client, *provider, indicators(2)).json()
    old, young = dt.timedelta(hours=2), dt.timedelta(minutes=5)
    part = leftover(settings, payload_key(uuid.uuid4(), "a" * 64) + ".part-0123", old)
    orphan = leftover(settings, payload_key(uuid.uuid4(), "b" * 64), old)
    uploading = leftover(settings, payload_key(uuid.uuid4(), "c" * 64) + ".part-4567", young)
    loading = leftover(settings, payload_key(uuid.uuid4(), "d" * 64), young)
    stored = next(store_root(settings).rglob(f"{kept['sha256']}.arrow"))
    os.utime(stored, ((utcnow() - old).timestamp(),) * 2)

    assert janitor.sweep(runtime) == janitor.Swept(partial_uploads=1, orphan_payloads=1)
    assert not part.exists() and not orphan.exists()
    assert uploading.exists() and loading.exists() and stored.exists()
    assert janitor.sweep(runtime) == janitor.Swept(0, 0)
