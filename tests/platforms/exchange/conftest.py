from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.core.signing import KeyPair
from exchange.platforms.exchange.models import Connector
from tests.builders import make_connector, seed_city


@pytest.fixture
def tj(db: Session, settings: Settings) -> tuple[Connector, KeyPair]:
    """The seeded city with an active connector of its statistics bureau (统计局), and its key."""
    seed_city(db, settings)
    pair = make_connector(db, settings, department="TJ")
    db.commit()
    return pair
