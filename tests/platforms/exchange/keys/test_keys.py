"""Key sets: a connector or a node rotates its key; what the old key signed stays verifiable."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.core.signing import KeyPair, qualified_key_id
from exchange.directory import keys
from exchange.directory.models import PrincipalKey
from exchange.platforms.exchange.lineage import service as receipts
from exchange.platforms.exchange.models import Batch, Connector
from tests.builders import (
    indicators,
    make_connector,
    push,
    rotate_node_key,
    signed_get,
    signed_post_json,
)

pytestmark = pytest.mark.both_backends
INBOX = "/exchange/v1/inbox"


def as_key(connector: Connector, pair: KeyPair) -> str:
    return qualified_key_id(str(connector.id), pair)


def keys_path(connector: Connector) -> str:
    return f"/exchange/v1/connectors/{connector.id}/keys"


def add_key(client: TestClient, connector: Connector, signer: KeyPair, new: KeyPair):  # type: ignore[no-untyped-def]
    body = {"public_key": new.public_b64}
    return signed_post_json(client, as_key(connector, signer), signer, keys_path(connector), body)


def retire(  # type: ignore[no-untyped-def]
    client: TestClient, connector: Connector, signer: KeyPair, key_id: str, after_s: float = 0
):
    target = f"{keys_path(connector)}/{key_id}/retire"
    return signed_post_json(client, as_key(connector, signer), signer, target, {"after_s": after_s})


def test_both_keys_work_during_the_overlap_and_the_retired_one_gets_401(
    client: TestClient, tj: tuple[Connector, KeyPair]
) -> None:
    connector, old = tj
    new = KeyPair.generate()
    r = add_key(client, connector, old, new)
    assert r.status_code == 200, r.text
    assert r.json()["key_id"] == new.key_id and r.json()["state"] == "current"
    for pair in (old, new):
        assert signed_get(client, as_key(connector, pair), pair, INBOX).status_code == 200

    r = retire(client, connector, new, old.key_id)
    assert r.status_code == 200 and r.json()["state"] == "retired"
    refused = signed_get(client, as_key(connector, old), old, INBOX)
    assert refused.status_code == 401 and refused.json()["error"] == "KeyRetired"
    assert old.key_id in refused.json()["detail"]
    bare = signed_get(client, str(connector.id), old, INBOX)  # a pre-rotation client
    assert bare.status_code == 401
    assert signed_get(client, as_key(connector, new), new, INBOX).status_code == 200
    listed = signed_get(client, as_key(connector, new), new, keys_path(connector)).json()
    assert [(k["key_id"], k["state"]) for k in listed] == [
        (old.key_id, "retired"),
        (new.key_id, "current"),
    ]


def test_a_scheduled_retirement_keeps_the_old_key_until_it_is_due(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    connector, old = tj
    new = KeyPair.generate()
    add_key(client, connector, old, new)
    r = retire(client, connector, new, old.key_id, after_s=3600)
    assert r.json()["state"] == "retiring"
    assert signed_get(client, as_key(connector, old), old, INBOX).status_code == 200
    db.execute(  # the hour has passed
        update(PrincipalKey)
        .where(PrincipalKey.key_id == old.key_id)
        .values(retired_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    db.commit()
    refused = signed_get(client, as_key(connector, old), old, INBOX)
    assert refused.status_code == 401 and refused.json()["error"] == "KeyRetired"


def test_an_unknown_key_id_is_401_naming_it(
    client: TestClient, tj: tuple[Connector, KeyPair]
) -> None:
    connector, _ = tj
    stranger = KeyPair.generate()
    r = signed_get(client, as_key(connector, stranger), stranger, INBOX)
    assert r.status_code == 401 and r.json()["error"] == "UnknownKey"
    assert stranger.key_id in r.json()["detail"] and str(connector.id) in r.json()["detail"]


def test_a_key_id_with_another_keys_signature_is_401(
    client: TestClient, tj: tuple[Connector, KeyPair]
) -> None:
    connector, pair = tj
    forged = signing.authorization_header(as_key(connector, pair), KeyPair.generate(), "GET", INBOX)
    r = client.get(INBOX, headers={"Authorization": forged})
    assert r.status_code == 401 and r.json()["error"] == "InvalidSignature"


def test_a_rotation_signed_by_another_connector_is_403(
    client: TestClient, db: Session, settings: Settings, tj: tuple[Connector, KeyPair]
) -> None:
    victim, victim_keys = tj
    other, other_keys = make_connector(db, settings, department="FG")
    db.commit()
    attacker_key = KeyPair.generate()
    body = {"public_key": attacker_key.public_b64}
    r = signed_post_json(client, as_key(other, other_keys), other_keys, keys_path(victim), body)
    assert r.status_code == 403 and r.json()["error"] == "NotKeyOwner"
    assert str(victim.id) in r.json()["detail"]
    r = add_key(client, victim, attacker_key, attacker_key)  # signed by a key it does not hold
    assert r.status_code == 401 and r.json()["error"] == "UnknownKey"
    listed = signed_get(client, as_key(victim, victim_keys), victim_keys, keys_path(victim))
    assert [k["key_id"] for k in listed.json()] == [victim_keys.key_id]


def test_a_body_other_than_the_signed_one_is_401(
    client: TestClient, tj: tuple[Connector, KeyPair]
) -> None:
    connector, pair = tj
    signed = b'{"public_key": "%s"}' % KeyPair.generate().public_b64.encode()
    swapped = b'{"public_key": "%s"}' % KeyPair.generate().public_b64.encode()
    sha = hashlib.sha256(signed).hexdigest()
    auth = signing.authorization_header(
        as_key(connector, pair), pair, "POST", keys_path(connector), sha
    )
    r = client.post(
        keys_path(connector),
        content=swapped,
        headers={
            "Authorization": auth,
            "X-Content-SHA256": sha,
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == 401 and "X-Content-SHA256" in r.json()["detail"]


def test_the_last_current_key_cannot_be_retired(
    client: TestClient, tj: tuple[Connector, KeyPair]
) -> None:
    connector, pair = tj
    r = retire(client, connector, pair, pair.key_id)
    assert r.status_code == 409 and r.json()["error"] == "LastKey"
    assert signed_get(client, as_key(connector, pair), pair, INBOX).status_code == 200


def test_a_retired_key_cannot_be_registered_again(
    client: TestClient, tj: tuple[Connector, KeyPair]
) -> None:
    connector, old = tj
    new = KeyPair.generate()
    add_key(client, connector, old, new)
    retire(client, connector, new, old.key_id)
    r = add_key(client, connector, new, old)
    assert r.status_code == 409 and r.json()["error"] == "KeyWasRetired"


def test_a_bad_public_key_is_422(client: TestClient, tj: tuple[Connector, KeyPair]) -> None:
    connector, pair = tj
    body = {"public_key": "not-a-key"}
    r = signed_post_json(client, as_key(connector, pair), pair, keys_path(connector), body)
    assert r.status_code == 422 and "public_key" in r.json()["detail"]


def test_retiring_an_unknown_key_is_404(client: TestClient, tj: tuple[Connector, KeyPair]) -> None:
    connector, pair = tj
    r = retire(client, connector, pair, "0123456789abcdef")
    assert r.status_code == 404 and "0123456789abcdef" in r.json()["detail"]


def test_a_connector_of_the_previous_release_is_known_by_its_single_key(
    client: TestClient, db: Session, tj: tuple[Connector, KeyPair]
) -> None:
    """Rolling upgrade: a connector registered by an old worker has no key set yet."""
    connector, pair = tj
    db.query(PrincipalKey).filter(PrincipalKey.principal == str(connector.id)).delete()
    db.commit()
    assert signed_get(client, str(connector.id), pair, INBOX).status_code == 200
    assert signed_get(client, as_key(connector, pair), pair, INBOX).status_code == 200


def test_batches_and_receipts_signed_before_a_rotation_still_verify(
    client: TestClient, db: Session, runtime: Runtime, tj: tuple[Connector, KeyPair]
) -> None:
    connector, old = tj
    node_before = runtime.node_keys
    first = push(client, connector, old, indicators(2)).json()
    # The connector rotates; the node rotates (its key file is replaced, as `hub node
    # rotate-key` does) and retires its old key.
    new = KeyPair.generate()
    add_key(client, connector, old, new)
    retire(client, connector, new, old.key_id)
    _, node_after = rotate_node_key(db, runtime)
    keys.retire(db, keys.KeyOwner(keys.NODE, runtime.settings.node_code), node_before.key_id)
    db.commit()
    second = push(client, connector, new, indicators(3, value=9)).json()

    for batch, origin_key, node_key in ((first, old, node_before), (second, new, node_after)):
        view = signed_get(
            client, as_key(connector, new), new, f"/exchange/v1/batches/{batch['batch_id']}"
        )
        body = view.json()
        for step in body["lineage"]:
            assert step["public_key"] == node_key.public_b64 and step["key_id"] == node_key.key_id
            assert receipts.verify(step, batch["batch_id"], step["public_key"])
        stored = db.get(Batch, uuid.UUID(batch["batch_id"]))
        assert stored is not None and stored.origin_public_key == origin_key.public_b64
        message = signing.batch_message(
            str(stored.id), stored.resource_code, stored.sha256, stored.origin
        )
        assert signing.verify(stored.origin_public_key, message, stored.signature)
    history = client.get("/exchange/v1/node/keys").json()
    assert [(k["key_id"], k["state"]) for k in history] == [
        (node_before.key_id, "retired"),
        (node_after.key_id, "current"),
    ]
