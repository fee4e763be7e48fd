"""The audit log of every read of shared data: written before the response, append-only.

Each entry records who read (actor, role, department), under which grant, which resource and
keys, why (purpose, case number), when, how many rows and with what outcome. The writer adds an
HMAC of the content (`mac`) under a key derived from the node secret. Threaded reads append in
the request's own transaction; the event-loop keyed lookup group commits its entries
(`fast_reads.AuditGroup`). Either way an entry is committed before its response is sent. Seals
(`audit_chain.py`) then link entries into a signed hash chain in small batches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.platforms.sharing.access.crypto import derive_key
from exchange.platforms.sharing.access.principal import Principal
from exchange.platforms.sharing.audit import repository as repo
from exchange.platforms.sharing.models import AuditEntry

MAX_KEYS = 100  # keys listed per entry; `rows` always counts them all
# Columns added since the first release are MACed only when set, so that every entry written
# before them still verifies with the bytes its MAC was made of.
LATER = ("caller_request_id",)
CONTENT = tuple(c for c in repo.COLUMNS if c != "mac" and c not in LATER)


@dataclass(frozen=True, slots=True)
class ReadContext:
    """Who reads through which channel, and why (the X-Road client, end user and case number)."""

    principal: Principal
    channel: str  # api | page | bulk
    purpose: str | None = None
    case_number: str | None = None
    request_id: str | None = None  # this node's id of the request
    caller_request_id: str | None = None  # the caller's X-Request-ID, kept beside it


def canonical(values: Mapping[str, Any]) -> bytes:
    """The bytes an entry's MAC covers; identical before the insert and after reading it back.

    A JSON array of the content columns in their fixed order (CONTENT), times in UTC with
    microseconds, UUIDs as text, then each LATER column that is set, as [name, value].
    """
    head, tail = _canonical_around_rows(values)
    return b"%s%d%s" % (head, values["rows"], tail)


def _canonical_around_rows(values: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """`canonical(values)` in two parts, before and after the `rows` element: a read whose
    row count is known only after its statement can MAC both outcomes from one encoding."""
    doc = []
    for name in CONTENT:
        v = values[name]
        if isinstance(v, dt.datetime):
            v = v.astimezone(dt.UTC).isoformat(timespec="microseconds")
        elif isinstance(v, uuid.UUID):
            v = str(v)
        doc.append(v)
    doc += [[name, values[name]] for name in LATER if values.get(name) is not None]
    head = _ENCODE(doc[:_ROWS])[:-1] + ","  # both sides hold columns: neither list is empty
    tail = "," + _ENCODE(doc[_ROWS + 1 :])[1:]
    return head.encode(), tail.encode()


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ROWS = CONTENT.index("rows")


def entry_values(entry: AuditEntry | Row[Any]) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in repo.COLUMNS}


class AuditLog:
    def __init__(self, secret: str) -> None:
        self._hmac = hmac.new(derive_key(secret, "audit-mac"), digestmod=hashlib.sha256)

    def mac(self, values: Mapping[str, Any]) -> str:
        h = self._hmac.copy()
        h.update(canonical(values))
        return h.hexdigest()

    def macs(self, values: Mapping[str, Any], rows: Sequence[int]) -> list[str]:
        """The MACs of `values` with `rows` set to each of the given counts."""
        head, tail = _canonical_around_rows(values)
        before = self._hmac.copy()
        before.update(head)
        out = []
        for n in rows:
            h = before.copy()
            h.update(b"%d%s" % (n, tail))
            out.append(h.hexdigest())
        return out

    def mac_ok(self, entry: AuditEntry | Row[Any]) -> bool:
        return hmac.compare_digest(self.mac(entry_values(entry)), entry.mac)

    def values(self, ctx: ReadContext, **kw: Any) -> dict[str, Any]:
        """An entry's column values, its MAC included (`content`'s arguments)."""
        values = self.content(ctx, **kw)
        values["mac"] = self.mac(values)
        return values

    def content(
        self,
        ctx: ReadContext,
        *,
        action: str,
        resource: str | None,
        grant_id: uuid.UUID | None,
        keys: Sequence[str] | None,
        rows: int,
        outcome: str = "ok",
    ) -> dict[str, Any]:
        """An entry's column values without its MAC."""
        p = ctx.principal
        return {
            "at": utcnow(),  # microseconds: what both databases keep, so the MAC survives
            "channel": ctx.channel,
            "action": action,
            "actor": p.actor,
            "role": p.role.value,
            "department": p.department_path,
            "grant_id": grant_id,
            "resource": resource,
            "keys": list(keys[:MAX_KEYS]) if keys is not None else None,
            "rows": rows,
            "purpose": ctx.purpose,
            "case_number": ctx.case_number,
            "outcome": outcome,
            "request_id": ctx.request_id,
            "caller_request_id": ctx.caller_request_id,
        }

    def anonymous(
        self,
        *,
        channel: str,
        action: str,
        resource: str | None,
        outcome: str,
        request_id: str | None,
        caller_request_id: str | None,
    ) -> dict[str, Any]:
        """The entry (MAC included) of a call refused before a valid token named its caller:
        nothing it claims about itself is written down, only that it was turned away."""
        values: dict[str, Any] = {
            "at": utcnow(),
            "channel": channel,
            "action": action,
            "actor": "anonymous",
            "role": "anonymous",
            "department": None,
            "grant_id": None,
            "resource": resource,
            "keys": None,
            "rows": 0,
            "purpose": None,
            "case_number": None,
            "outcome": outcome,
            "request_id": request_id,
            "caller_request_id": caller_request_id,
        }
        values["mac"] = self.mac(values)
        return values

    def append(self, session: Session, values: dict[str, Any]) -> int:
        """Append an entry made by `values` or `anonymous`."""
        return repo.append(session, values)

    def record(self, session: Session, ctx: ReadContext, **kw: Any) -> int:
        """Append an entry unconditionally (refusals, reads that need no grant)."""
        return repo.append(session, self.values(ctx, **kw))

    def record_read(
        self, session: Session, ctx: ReadContext, *, grant_id: uuid.UUID, **kw: Any
    ) -> int | None:
        """Append the entry of a granted read if the grant still holds; None if it does not."""
        values = self.values(ctx, grant_id=grant_id, **kw)
        client = ctx.principal.id if ctx.principal.kind == "client" else None
        return repo.append_if_grant_holds(
            session, values, grant_id=grant_id, client_id=client, now=values["at"]
        )
