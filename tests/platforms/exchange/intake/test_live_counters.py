"""/metrics counts intake traffic as it happens: rows and bytes per resource, refusals by reason."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from tests.builders import indicators, make_connector, push, seed_city


def _value(metrics: str, sample: str) -> float:
    found = re.search(re.escape(sample) + r" ([0-9.e+]+)$", metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_rows_bytes_and_refusals_are_counted(
    client: TestClient, db: Session, settings: Settings
) -> None:
    seed_city(db, settings)
    provider = make_connector(db, settings, department="TJ")
    db.commit()
    rows = 'hub_batch_rows_total{resource="macro_indicator",status="accepted"}'
    size = 'hub_batch_bytes_total{resource="macro_indicator",status="accepted"}'
    refused = 'hub_intake_refusals_total{reason="HashMismatch"}'
    before = client.get("/metrics").text
    accepted = push(client, *provider, indicators(4))
    assert accepted.status_code == 201, accepted.text
    bad = push(client, *provider, indicators(2, value=9.0), sign_sha="0" * 64)
    assert bad.status_code >= 400 and bad.json()["error"] == "HashMismatch", bad.text
    after = client.get("/metrics").text
    assert _value(after, rows) - _value(before, rows) == 4
    assert _value(after, size) - _value(before, size) == accepted.json()["size_bytes"]
    assert _value(after, refused) - _value(before, refused) == 1
