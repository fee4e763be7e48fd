"""Unmasked personal values never leave without a grant that allows them, on any channel."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.masking import RIC_PART_CHECKS, hidden_fields, sensitivity_of
from exchange.core.resource_schema import Sensitivity, load_schema
from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from tests.platforms.sharing.builders import (
    PURPOSE,
    Caller,
    console_login,
    csrf_of,
    grant,
    load,
    load_people,
    make_user,
)

SCHEMAS = Path(__file__).parents[4] / "schemas"
PERSONAL = ("id_number", "name", "address", "phone")
ALL_FIELDS = [
    "id_number", "name", "gender", "birth_date", "ethnicity",
    "household_division", "address", "phone", "status",
]  # fmt: skip


def _secrets(people: pa.Table) -> set[str]:
    return {v for f in PERSONAL for v in people[f].to_pylist() if v}


def everything_served(http: TestClient, reader: Caller, people: pa.Table, db: Session,
                      settings: Settings) -> str:  # fmt: skip
    """Every byte a consumer department can get about these people, on every channel."""
    base = "/sharing/v1/resources/population"
    key = people["id_number"][0].as_py()
    out = [
        reader.get(f"{base}/records/{key}").text,
        reader.get(f"{base}/records", params={"limit": 100}).text,
        reader.get(f"{base}/events", params={"limit": 100}).text,
    ]
    full = reader.get(f"{base}/snapshots/full")
    out.append(str(pq.read_table(io.BytesIO(full.content)).to_pylist()))
    update = people.slice(0, 3).to_pylist()
    load(http, "population", pa.Table.from_pylist(
        [r | {"status": "moved_out"} for r in update], schema=people.schema
    ))  # fmt: skip
    after = full.headers["x-snapshot-cursor"]
    delta = reader.get(f"{base}/snapshots/delta", params={"after": after})
    out.append(str(pq.read_table(io.BytesIO(delta.content)).to_pylist()))
    browser = console_login(http, make_user(db, settings, Role.department, "MZ"))
    form = browser.get("/console/lookup")
    for k in people["id_number"].to_pylist()[:5]:
        data = {"key": k, "purpose": "核验身份", "case_number": "MZ-1", "csrf": csrf_of(form)}
        out.append(browser.post("/console/lookup", data=data).text)
    return "\n".join(out)


@pytest.mark.parametrize("plain", [False, True])
def test_personal_values_are_masked_everywhere_unless_granted_in_plain(
    city: TestClient, consumer: Caller, provider: Caller, db: Session, settings: Settings,
    plain: bool,
) -> None:  # fmt: skip
    people = load_people(city, 25, seed=11)
    grant(consumer, provider, fields=ALL_FIELDS, plain_fields=list(PERSONAL) if plain else [])
    consumer.extra = PURPOSE
    served = everything_served(city, consumer, people, db, settings)
    leaked = {v for v in _secrets(people) if v in served}
    if plain:  # the same check finds them when the grant allows plain values
        assert leaked == _secrets(people)
    else:
        assert leaked == set(), f"unmasked values served: {sorted(leaked)[:5]}"


def test_the_parts_of_a_masked_id_number_are_withheld_with_it(
    city: TestClient, consumer: Caller, provider: Caller, db: Session, settings: Settings
) -> None:
    people = load_people(city, 25, seed=13)
    grant(consumer, provider, fields=ALL_FIELDS, plain_fields=["name", "address", "phone"])
    consumer.extra = PURPOSE
    served = everything_served(city, consumer, people, db, settings)
    births = {d for b in people["birth_date"].to_pylist() for d in (b.isoformat(), repr(b))}
    assert {b for b in births if b in served} == set(), "birth dates served beside masked IDs"
    r = consumer.get(f"/sharing/v1/resources/population/records/{people['id_number'][0]}")
    record = r.json()["record"]
    assert record["birth_date"] == record["gender"] == "****"
    assert {"id_number", "birth_date", "gender"} <= set(r.json()["masked_fields"])
    allowed = consumer.get("/sharing/v1/allowed").json()["resources"][0]
    assert {"birth_date", "gender"} <= set(allowed["masked_fields"])


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.json")), ids=lambda p: p.stem)
def test_every_schema_withholds_what_a_masked_identifier_is_made_of(path: Path) -> None:
    schema = load_schema(path)
    ids = {f.name for f in schema.fields if sensitivity_of(f) is Sensitivity.personal_id}
    parts = {f.name for f in schema.fields if f.check in RIC_PART_CHECKS}
    if parts:
        assert ids, f"{schema.code}: parts of an ID number without one"
    everything = [f.name for f in schema.fields]
    masked = set(hidden_fields(schema, everything, plain=()))
    assert ids | parts <= masked
    plain_ids = set(hidden_fields(schema, everything, plain=ids))
    assert not (parts & plain_ids), "with the identifier in plain its parts are plain too"
