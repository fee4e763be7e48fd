"""Applications (申请): apply -> (review) -> approve with a grant, or reject with a reason.

无条件 resources are granted on application, 有条件 ones wait for the providing department,
不予共享 ones cannot be applied for. Plain (unmasked) personal values always need the
provider's review, whatever the resource's class. Deadlines are set when an application is
submitted and an open application past one is flagged as overdue.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.masking import sensitivity_of
from exchange.core.resource_schema import ResourceSchema, ShareClass
from exchange.core.settings import SharingSettings
from exchange.core.store import PayloadStore
from exchange.directory import repository as directory
from exchange.directory.publishing import missing_catalog_fields
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.applications.deadlines import add_working_days
from exchange.platforms.sharing.applications.schemas import ApplicationCreate, Approval, Attachment
from exchange.platforms.sharing.errors import (
    AlreadyGranted,
    ApplicationClosed,
    ApplicationNotFound,
    ApplicationPending,
    AttachmentRejected,
    AttachmentTooLarge,
    DurationTooLong,
    FieldsNotRequested,
    NoAttachment,
    NotProvider,
    NotShareable,
    OwnResource,
    ResourceNotFound,
    ResourceNotPublished,
    UnknownFields,
)
from exchange.platforms.sharing.grants import repository as repo
from exchange.platforms.sharing.models import Application, Grant

_MAGIC = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}


@dataclass(frozen=True)
class Context:
    settings: SharingSettings
    schemas: dict[str, ResourceSchema]
    store: PayloadStore


def needs_review(schema: ResourceSchema, plain_fields: list[str]) -> bool:
    if schema.catalog.share_class is ShareClass.conditional:
        return True
    return any(sensitivity_of(schema.field(f)).is_personal for f in plain_fields)


def apply(session: Session, ctx: Context, who: Principal, req: ApplicationCreate) -> Application:
    resource = directory.get_resource(session, req.resource)
    schema = ctx.schemas.get(req.resource)
    if resource is None or schema is None:
        raise ResourceNotFound(req.resource)
    if resource.share_class == ShareClass.none.value:
        raise NotShareable(req.resource)
    missing = missing_catalog_fields(resource)
    if missing or resource.status != "published":
        raise ResourceNotPublished(req.resource, missing or ["publication"])
    applicant = who.require_department()
    if resource.provider_id == applicant:
        raise OwnResource(req.resource)
    fields = list(dict.fromkeys(req.fields))
    plain = list(dict.fromkeys(req.plain_fields))
    unknown = [f for f in fields + plain if f not in schema.by_name]
    if unknown:
        raise UnknownFields("fields", unknown, req.resource)
    if extra := [f for f in plain if f not in fields]:
        raise FieldsNotRequested("plain_fields", extra)
    if req.duration_days > ctx.settings.max_grant_days:
        raise DurationTooLong(req.duration_days, ctx.settings.max_grant_days, "the longest grant")
    if (held := repo.active_grant(session, applicant, req.resource, utcnow())) is not None:
        raise AlreadyGranted(held.id)
    if (pending := repo.open_application(session, applicant, req.resource)) is not None:
        raise ApplicationPending(pending.id)
    now = utcnow()
    app = Application(
        id=uuid.uuid4(),
        resource_code=req.resource,
        applicant_id=applicant,
        provider_id=resource.provider_id,
        purpose=req.purpose.strip(),
        legal_basis=req.legal_basis.strip(),
        fields=fields,
        plain_fields=plain,
        duration_days=req.duration_days,
        status="submitted",
        submitted_at=now,
        submitted_by=who.actor,
        review_due=add_working_days(now, ctx.settings.review_working_days),
        answer_due=add_working_days(now, ctx.settings.answer_working_days),
    )
    if req.attachment is not None:
        app.attachment = _store_attachment(ctx, app.id, req.attachment)
    repo.add(session, app)
    if not needs_review(schema, plain):
        _decide(app, who, "approved", now)
        _grant(session, ctx, app, fields, plain, req.duration_days, None, None, now)
    return _reload(session, app.id)


def _store_attachment(ctx: Context, app_id: uuid.UUID, a: Attachment) -> dict[str, object]:
    limit = ctx.settings.max_attachment_bytes
    if len(a.content_base64) > limit * 4 // 3 + 4:
        raise AttachmentTooLarge(limit)
    try:
        data = base64.b64decode(a.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise AttachmentRejected("content_base64 is not valid base64") from None
    if len(data) > limit:
        raise AttachmentTooLarge(limit)
    if not data.startswith(_MAGIC[a.content_type]):
        raise AttachmentRejected(f"the content is not a {a.content_type} file")
    sha = hashlib.sha256(data).hexdigest()
    stored = ctx.store.put_stream(f"sharing/attachments/{app_id}/{sha}", [data])
    return {
        "filename": a.filename,
        "content_type": a.content_type,
        "size": stored.size,
        "sha256": sha,
        "key": stored.key,
    }


def visible(session: Session, who: Principal, application_id: uuid.UUID) -> Application:
    """The application if `who` may see it: its two departments, or a bureau role."""
    app = repo.get_application(session, application_id)
    if app is None:
        raise ApplicationNotFound(application_id)
    if who.role is Role.department and who.department_id not in (
        app.applicant_id,
        app.provider_id,
    ):
        raise ApplicationNotFound(application_id)  # another department's: it does not exist
    return app


def attachment(
    session: Session, ctx: Context, who: Principal, application_id: uuid.UUID
) -> tuple[dict[str, object], bytes]:
    app = visible(session, who, application_id)
    if not app.attachment:
        raise NoAttachment(application_id)
    with ctx.store.open(str(app.attachment["key"])) as fh:
        return app.attachment, fh.read()


def _for_provider(
    session: Session, who: Principal, application_id: uuid.UUID, action: str
) -> Application:
    app = visible(session, who, application_id)
    if who.department_id != app.provider_id:
        raise NotProvider(action)
    if app.status not in repo.OPEN:
        raise ApplicationClosed(application_id, app.status)
    return app


def acknowledge(session: Session, who: Principal, application_id: uuid.UUID) -> Application:
    """The provider has taken the application up (meets the review deadline)."""
    app = _for_provider(session, who, application_id, "take up an application")
    if app.status == "submitted":
        app.status = "in_review"
        app.reviewed_at = utcnow()
        session.flush()
    return app


def approve(
    session: Session, ctx: Context, who: Principal, application_id: uuid.UUID, req: Approval
) -> Application:
    app = _for_provider(session, who, application_id, "approve an application")
    fields = list(dict.fromkeys(req.fields)) if req.fields is not None else list(app.fields)
    if not fields:
        raise FieldsNotRequested("fields", ["(none)"])
    if extra := [f for f in fields if f not in app.fields]:
        raise FieldsNotRequested("fields", extra)
    wanted_plain = req.plain_fields if req.plain_fields is not None else app.plain_fields
    if extra := [f for f in wanted_plain if f not in app.plain_fields]:
        raise FieldsNotRequested("plain_fields", extra)
    plain = [f for f in dict.fromkeys(wanted_plain) if f in fields]
    days = req.duration_days or app.duration_days
    if days > app.duration_days:
        raise DurationTooLong(days, app.duration_days, "the period applied for")
    if (
        held := repo.active_grant(session, app.applicant_id, app.resource_code, utcnow())
    ) is not None:
        raise AlreadyGranted(held.id)
    now = utcnow()
    _decide(app, who, "approved", now)
    _grant(session, ctx, app, fields, plain, days, req.rate_per_minute, req.rows_per_day, now)
    return app


def reject(session: Session, who: Principal, application_id: uuid.UUID, reason: str) -> Application:
    app = _for_provider(session, who, application_id, "reject an application")
    _decide(app, who, "rejected", utcnow())
    app.reason = reason.strip()
    session.flush()
    return app


def _decide(app: Application, who: Principal, status: str, now: dt.datetime) -> None:
    app.status = status
    app.decided_at = now
    app.decided_by = who.actor
    app.reviewed_at = app.reviewed_at or now


def _grant(
    session: Session,
    ctx: Context,
    app: Application,
    fields: list[str],
    plain: list[str],
    days: int,
    rate: int | None,
    rows: int | None,
    now: dt.datetime,
) -> Grant:
    schema = ctx.schemas[app.resource_code]
    grant = Grant(
        application_id=app.id,
        resource_code=app.resource_code,
        consumer_id=app.applicant_id,
        provider_id=app.provider_id,
        fields=fields,
        plain_fields=plain,
        purpose=app.purpose,
        conditional=schema.catalog.share_class is ShareClass.conditional,
        rate_per_minute=rate or ctx.settings.rate_per_minute,
        rows_per_day=rows or ctx.settings.rows_per_day,
        granted_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    repo.add(session, grant)
    return grant


def _reload(session: Session, application_id: uuid.UUID) -> Application:
    found = repo.get_application(session, application_id)
    assert found is not None
    return found


def listed(
    session: Session,
    who: Principal,
    *,
    side: str | None,
    status: str | None,
    overdue_only: bool,
    limit: int,
    offset: int,
) -> list[tuple[Application, uuid.UUID | None]]:
    """A department sees its own (as applicant, provider or both); bureau roles see all."""
    return list(
        repo.list_applications(
            session,
            department_id=who.department_id if who.role is Role.department else None,
            side=side if who.role is Role.department else None,
            status=status,
            overdue_at=utcnow() if overdue_only else None,
            limit=limit,
            offset=offset,
        )
    )


def read_back(session: Session, application_id: uuid.UUID) -> tuple[Application, uuid.UUID | None]:
    """An application just written or checked as visible, with its grant's id."""
    return _reload(session, application_id), repo.grant_id_of(session, application_id)
