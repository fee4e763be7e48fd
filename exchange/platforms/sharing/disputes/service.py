"""异议/纠错: a department that reads a record through its grant says it (or a field) is wrong,
with evidence; the provider gets a task due in 5 working days; while open, record responses
carry the dispute (`_disputes`, never a silent change); the provider fixes the record with a
normal batch (the dispute then closes as fixed by that batch) or rejects it with reasons.

A dispute is fixed when the record's current version comes from another batch than the one it
was raised against; that is settled whenever disputes are read, so no batch path depends on
this module.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.masking import mask
from exchange.core.resource_schema import ResourceSchema
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.applications.deadlines import add_working_days
from exchange.platforms.sharing.disputes import repository as repo
from exchange.platforms.sharing.disputes.errors import (
    DisputeClosed,
    DisputeNotFound,
    FieldNotGranted,
    NoSuchRecord,
)
from exchange.platforms.sharing.disputes.models import Dispute
from exchange.platforms.sharing.disputes.schemas import DisputeCounts, DisputeCreate, DisputeRead
from exchange.platforms.sharing.errors import NotProvider, ResourceNotFound
from exchange.platforms.sharing.grants import service as grants
from exchange.platforms.sharing.records.query import parse_value

ANSWER_WORKING_DAYS = 5  # local rules: the provider fixes disputed data within 5 working days
# Resources with an open dispute, per process: record reads skip the look-up for the others.
# A dispute raised in another worker is marked here within this many seconds.
_OPEN_TTL_S = 2.0


class _OpenResources:
    def __init__(self) -> None:
        self.at = 0.0  # when `codes` was read
        self.claimed = 0.0  # when a read took on refreshing it (the others keep the old set)
        self.codes: frozenset[str] = frozenset()


_open = _OpenResources()


def raise_dispute(
    session: Session,
    schemas: dict[str, ResourceSchema],
    who: Principal,
    req: DisputeCreate,
    channel: str,
) -> Dispute:
    schema = schemas.get(req.resource)
    provider = repo.provider_of(session, req.resource)
    if schema is None or provider is None:
        raise ResourceNotFound(req.resource)
    grant = grants.current(session, who, req.resource)  # only what one may read is disputed
    if req.field is not None and req.field not in grant.fields:
        raise FieldNotGranted(req.field)
    key_spec = schema.field(schema.primary_key[0])
    key = parse_value(key_spec, req.key.strip())
    batch = repo.current_batches(session, schema, [key]).get(str(key))
    if batch is None:
        raise NoSuchRecord(req.resource)
    now = utcnow()
    d = Dispute(
        resource_code=req.resource,
        record_key=str(key),
        field=req.field,
        claim=req.claim.strip(),
        evidence=req.evidence.strip(),
        channel=channel,
        raised_by=who.actor[:128],
        raiser_id=who.require_department(),
        provider_id=provider,
        status="open",
        raised_at=now,
        due_at=add_working_days(now, ANSWER_WORKING_DAYS),
        record_batch_id=batch,
    )
    repo.add(session, d)
    _forget_open()
    loaded = repo.get(session, d.id)  # with its departments, for the view
    assert loaded is not None
    return loaded


def settle(session: Session, schemas: dict[str, ResourceSchema], found: Sequence[Dispute]) -> None:
    """Close as fixed the open disputes whose record a later batch changed (or deleted)."""
    by_resource: dict[str, list[Dispute]] = {}
    for d in found:
        if d.status == "open" and d.resource_code in schemas:
            by_resource.setdefault(d.resource_code, []).append(d)
    now = utcnow()
    for code, items in by_resource.items():
        schema = schemas[code]
        spec = schema.field(schema.primary_key[0])
        keys = [parse_value(spec, d.record_key) for d in items]
        current = repo.current_batches(session, schema, keys)
        for d in items:
            batch = current.get(d.record_key)
            if batch == d.record_batch_id:
                continue
            d.status, d.closed_at = "fixed", now
            d.fixed_by_batch = batch  # None: the record was deleted
            d.closed_by = f"batch:{batch}" if batch else "record deleted"
            d.resolution = "由数据提供方通过批次更正 corrected by the provider's batch"
    session.flush()
    _forget_open()


def visible(
    session: Session, schemas: dict[str, ResourceSchema], who: Principal, dispute_id: uuid.UUID
) -> Dispute:
    d = repo.get(session, dispute_id)
    if d is None:
        raise DisputeNotFound(dispute_id)
    if who.role is Role.department and who.department_id not in (d.raiser_id, d.provider_id):
        raise DisputeNotFound(dispute_id)
    settle(session, schemas, [d])
    return d


def listed(
    session: Session,
    schemas: dict[str, ResourceSchema],
    who: Principal,
    *,
    status: str | None,
    limit: int,
) -> list[Dispute]:
    dept = who.department_id if who.role is Role.department else None
    settle(session, schemas, repo.listed(session, department_id=dept, status="open", limit=5000))
    return list(repo.listed(session, department_id=dept, status=status, limit=limit))


def reject(
    session: Session,
    schemas: dict[str, ResourceSchema],
    who: Principal,
    dispute_id: uuid.UUID,
    reason: str,
) -> Dispute:
    d = visible(session, schemas, who, dispute_id)
    if who.department_id != d.provider_id:
        raise NotProvider("answer a dispute about its data")
    if d.status != "open":
        raise DisputeClosed(dispute_id, d.status)
    d.status, d.closed_at, d.closed_by = "rejected", utcnow(), who.actor[:128]
    d.resolution = reason.strip()
    session.flush()
    _forget_open()
    return d


def counts(session: Session) -> list[DisputeCounts]:
    """Per department: disputes it raised, disputes about its data, and how they ended."""
    table: dict[str, dict[str, int]] = {}
    for d in repo.every(session):
        raiser = table.setdefault(d.raiser.code, _zero())
        raiser["raised"] += 1
        provider = table.setdefault(d.provider.code, _zero())
        provider["against"] += 1
        provider[d.status] += 1
    return [DisputeCounts(department=k, **v) for k, v in sorted(table.items())]


def _zero() -> dict[str, int]:
    return {"raised": 0, "against": 0, "open": 0, "fixed": 0, "rejected": 0}


def view(
    d: Dispute, who: Principal | None = None, schemas: dict[str, ResourceSchema] | None = None
) -> DisputeRead:
    """The dispute as `who` sees it: the bureau's roles (who read no data) see the key masked."""
    key = d.record_key
    if who is not None and who.role is not Role.department:
        schema = (schemas or {}).get(d.resource_code)
        sensitivity = schema.field(schema.primary_key[0]).sensitivity if schema else None
        key = mask(key, sensitivity) if sensitivity else "***"
    return DisputeRead(
        id=d.id,
        resource=d.resource_code,
        key=key,
        field=d.field,
        claim=d.claim,
        evidence=d.evidence,
        channel=d.channel,
        raised_by=d.raised_by,
        raiser=d.raiser.code,
        provider=d.provider.code,
        status=d.status,
        raised_at=d.raised_at,
        due_at=d.due_at,
        overdue=d.status == "open" and utcnow() > d.due_at,
        closed_at=d.closed_at,
        closed_by=d.closed_by,
        resolution=d.resolution,
        fixed_by_batch=d.fixed_by_batch,
    )


# -- marks on record responses ---------------------------------------------------------------
def cached_open(resource: str) -> bool | None:
    """Whether `resource` had an open dispute at the last look, so that reading a resource
    without disputes costs no query; None: this read is the one to look again (one read per
    period, not every concurrent one)."""
    now = time.monotonic()
    if now - _open.at <= _OPEN_TTL_S or now - _open.claimed <= _OPEN_TTL_S:
        return resource in _open.codes
    _open.claimed = now
    return None


def _refresh(session: Session) -> None:
    _open.codes = frozenset(repo.open_resources(session))
    _open.at = time.monotonic()


def _forget_open() -> None:
    _open.at = _open.claimed = 0.0


def marks(
    session: Session, schema: ResourceSchema, keys: Sequence[Any]
) -> dict[str, list[dict[str, Any]]]:
    """The open disputes of the records with these keys (as shown: raw or masked), by key.

    A dispute whose record has changed since is left out: it is fixed, and is closed so the
    next time disputes are read."""
    if time.monotonic() - _open.at > _OPEN_TTL_S:
        _refresh(session)
    if not keys or schema.code not in _open.codes:
        return {}
    open_ = repo.open_of(session, schema.code, None)
    if not open_:
        return {}
    spec = schema.field(schema.primary_key[0])
    current = repo.current_batches(
        session, schema, [parse_value(spec, d.record_key) for d in open_]
    )
    shown = {str(k) for k in keys}
    out: dict[str, list[dict[str, Any]]] = {}
    for d in open_:
        if current.get(d.record_key) != d.record_batch_id:
            continue
        for form in (d.record_key, mask(d.record_key, spec.sensitivity)):
            if form in shown:
                out.setdefault(form, []).append(
                    {
                        "id": str(d.id),
                        "field": d.field,
                        "claim": d.claim,
                        "status": "open",
                        "raised_at": d.raised_at.isoformat(),
                        "due_at": d.due_at.isoformat(),
                    }
                )
                break
    return out
