from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.directory import keys
from exchange.directory.errors import NotKeyOwner
from exchange.directory.models import PrincipalKey
from exchange.platforms.exchange.auth import Caller
from exchange.platforms.exchange.errors import (
    ConnectorNotFound,
)
from exchange.platforms.exchange.keys.schemas import KeyRead


def key_owner(kind: str, principal: str) -> keys.KeyOwner:
    if kind == keys.CONNECTOR:
        try:
            principal = str(uuid.UUID(principal))
        except ValueError:
            raise ConnectorNotFound(principal) from None
    return keys.KeyOwner(kind, principal)


def _require_owner(caller: Caller, owner: keys.KeyOwner) -> None:
    if caller.owner != owner:
        raise NotKeyOwner(caller.path, owner.id)


def add_key(session: Session, caller: Caller, owner: keys.KeyOwner, public_key: str) -> KeyRead:
    """The owner registers its successor key, in a request signed with a current key."""
    _require_owner(caller, owner)
    return key_view(keys.add(session, owner, public_key))


def retire_key(
    session: Session, caller: Caller, owner: keys.KeyOwner, key_id: str, after_s: float
) -> KeyRead:
    _require_owner(caller, owner)
    return key_view(keys.retire(session, owner, key_id, after_s=after_s))


def list_keys(
    session: Session, owner: keys.KeyOwner, caller: Caller | None = None
) -> list[KeyRead]:
    if caller is not None:
        _require_owner(caller, owner)
    return [key_view(k) for k in keys.history(session, owner)]


def key_view(k: PrincipalKey) -> KeyRead:
    state = "current"
    if k.retired_at is not None:
        state = "retired" if k.retired_at <= utcnow() else "retiring"
    return KeyRead(
        owner=k.principal,
        key_id=k.key_id,
        public_key=k.public_key,
        state=state,
        created_at=k.created_at,
        activated_at=k.activated_at,
        retired_at=k.retired_at,
    )
