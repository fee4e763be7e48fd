from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from tests.builders import seed_city
from tests.platforms.sharing.builders import (
    CONSUMER,
    PROVIDER,
    Caller,
    ensure_department,
    make_caller,
)


@pytest.fixture
def city(client: TestClient, db: Session, settings: Settings) -> TestClient:
    """The demo city with a consumer department (民政局) besides the providers."""
    seed_city(db, settings)
    ensure_department(db, settings, CONSUMER, "民政局")
    db.commit()
    return client


@pytest.fixture
def consumer(city: TestClient, db: Session, settings: Settings) -> Caller:
    return make_caller(city, db, settings, Role.department, CONSUMER)


@pytest.fixture
def provider(city: TestClient, db: Session, settings: Settings) -> Caller:
    return make_caller(city, db, settings, Role.department, PROVIDER)


@pytest.fixture
def admin(city: TestClient, db: Session, settings: Settings) -> Caller:
    return make_caller(city, db, settings, Role.admin)


@pytest.fixture
def auditor(city: TestClient, db: Session, settings: Settings) -> Caller:
    return make_caller(city, db, settings, Role.auditor)


@pytest.fixture
def operator(city: TestClient, db: Session, settings: Settings) -> Caller:
    return make_caller(city, db, settings, Role.operator)
