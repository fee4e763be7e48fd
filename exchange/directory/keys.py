"""Key sets of nodes and connectors: which keys verify a principal's signatures, and when.

Rotation without failed calls: the successor key is added while the old one still works, the
principal switches to signing with the successor, and the old key is retired after an overlap
(at once, or at a time set in advance). Only the principal itself may change its set, in a
request signed with one of its current keys; a node's first key comes from its neighbours'
configuration, a connector's from its registration.

Retired keys are never deleted: what they signed (batches, receipts, tokens, audit seals)
still verifies as history. They are refused only for new requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.db import utcnow
from exchange.directory import repository as repo
from exchange.directory.errors import (
    InvalidPublicKey,
    KeyNotFound,
    KeyNotYetActive,
    KeyRetired,
    KeyWasRetired,
    LastKey,
    NoCurrentKey,
    UnknownKey,
)
from exchange.directory.models import PrincipalKey

NODE, CONNECTOR = "node", "connector"


@dataclass(frozen=True)
class KeyOwner:
    """Whose keys: a node (by its code) or a connector (by its id)."""

    kind: str
    id: str


def add(
    session: Session, owner: KeyOwner, public_b64: str, *, at: dt.datetime | None = None
) -> PrincipalKey:
    """Add a key to the owner's set, valid from `at` (now); adding it again changes nothing."""
    if not signing.valid_public_key(public_b64):
        raise InvalidPublicKey()
    now = utcnow()
    key_id = signing.fingerprint(public_b64)
    existing = repo.get_key(session, owner.kind, owner.id, key_id)
    if existing is not None:
        if existing.retired_at is not None and existing.retired_at <= now:
            raise KeyWasRetired(owner.id, key_id)
        return existing
    return repo.add_key(
        session,
        PrincipalKey(
            kind=owner.kind,
            principal=owner.id,
            key_id=key_id,
            public_key=public_b64,
            created_at=now,
            activated_at=at or now,
        ),
    )


def ensure(session: Session, owner: KeyOwner, public_b64: str) -> PrincipalKey:
    """A configured key: added if unknown, otherwise left as it is (a retired one stays retired)."""
    if not signing.valid_public_key(public_b64):
        raise InvalidPublicKey()
    found = repo.get_key(session, owner.kind, owner.id, signing.fingerprint(public_b64))
    return found or add(session, owner, public_b64)


def retire(session: Session, owner: KeyOwner, key_id: str, *, after_s: float = 0) -> PrincipalKey:
    """Retire a key now or `after_s` seconds from now; the owner keeps at least one open key."""
    key = repo.get_key(session, owner.kind, owner.id, key_id)
    if key is None:
        raise KeyNotFound(owner.id, key_id)
    now = utcnow()
    when = now + dt.timedelta(seconds=after_s)
    if key.retired_at is not None and key.retired_at <= when:
        return key  # already retired, or due sooner: never extend a key's life
    others = [
        k
        for k in repo.keys_of(session, owner.kind, owner.id)
        if k.key_id != key_id and k.retired_at is None
    ]
    if not others:
        raise LastKey(owner.id, key_id)
    key.retired_at = when
    session.flush()
    return key


def history(session: Session, owner: KeyOwner) -> Sequence[PrincipalKey]:
    return repo.keys_of(session, owner.kind, owner.id)


def current(session: Session, owner: KeyOwner, at: dt.datetime | None = None) -> list[PrincipalKey]:
    at = at or utcnow()
    return [k for k in repo.keys_of(session, owner.kind, owner.id) if k.valid_at(at)]


def verifying_keys(
    session: Session, owner: KeyOwner, key_id: str | None, *, legacy: str | None = None
) -> list[str]:
    """The public keys a new request naming `key_id` may be checked with (refusals raise).

    With no key id (a client from before key rotation) every current key is tried. A
    principal with no key set at all is known by its `legacy` single key (one written by the
    previous release during a rolling upgrade).
    """
    known = repo.keys_of(session, owner.kind, owner.id)
    if not known:
        if legacy and (key_id is None or key_id == signing.fingerprint(legacy)):
            return [legacy]
        if key_id is not None:
            raise UnknownKey(owner.id, key_id)
        return []
    now = utcnow()
    if key_id is None:
        valid = [k.public_key for k in known if k.valid_at(now)]
        if not valid:
            raise NoCurrentKey(owner.id)
        return valid
    key = next((k for k in known if k.key_id == key_id), None)
    if key is None:
        raise UnknownKey(owner.id, key_id)
    if key.retired_at is not None and key.retired_at <= now:
        raise KeyRetired(owner.id, key_id, key.retired_at)
    if key.activated_at > now:
        raise KeyNotYetActive(owner.id, key_id, key.activated_at)
    return [key.public_key]


# -- this node's own keys ------------------------------------------------------------------
def own_public_key(
    session: Session, node_code: str, key_id: str | None, signing_now: signing.KeyPair
) -> str | None:
    """The public key this node signed something with, for showing it next to the signature.

    `key_id` None: signed before key rotation existed, i.e. with the node's first key.
    """
    if key_id == signing_now.key_id:
        return signing_now.public_b64
    keys = repo.keys_of(session, NODE, node_code)
    if key_id is None:
        return keys[0].public_key if keys else signing_now.public_b64
    found = next((k for k in keys if k.key_id == key_id), None)
    return found.public_key if found else None


def own_history(session: Session, node_code: str, signing_now: signing.KeyPair) -> list[str]:
    """Every public key this node has signed with (to verify what it signed in the past)."""
    keys = [k.public_key for k in repo.keys_of(session, NODE, node_code)]
    return keys if signing_now.public_b64 in keys else [*keys, signing_now.public_b64]
