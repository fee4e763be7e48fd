"""ORM rows to response bodies (the ORM never leaves the service layer as-is)."""

from __future__ import annotations

import datetime as dt
import uuid

from exchange.platforms.sharing.access.schemas import ClientRead
from exchange.platforms.sharing.applications.deadlines import calendar_note, overdue
from exchange.platforms.sharing.applications.schemas import ApplicationRead, AttachmentRead
from exchange.platforms.sharing.grants.schemas import GrantRead
from exchange.platforms.sharing.grants.service import state_of
from exchange.platforms.sharing.models import ApiClient, Application, Grant


def application_read(
    a: Application, grant_id: uuid.UUID | None, now: dt.datetime
) -> ApplicationRead:
    attachment = None
    if a.attachment:
        attachment = AttachmentRead(**{k: a.attachment[k] for k in AttachmentRead.model_fields})
    return ApplicationRead(
        id=a.id,
        resource=a.resource_code,
        # an applicant of another level's node is named with its node (codes repeat per node)
        applicant=(
            a.applicant.path if a.applicant.node_code != a.provider.node_code else a.applicant.code
        ),
        provider=a.provider.code,
        purpose=a.purpose,
        legal_basis=a.legal_basis,
        fields=list(a.fields),
        plain_fields=list(a.plain_fields),
        duration_days=a.duration_days,
        attachment=attachment,
        status=a.status,
        submitted_at=a.submitted_at,
        submitted_by=a.submitted_by,
        review_due=a.review_due,
        answer_due=a.answer_due,
        overdue=overdue(a.status, a.review_due, a.answer_due, now),
        deadline_note=calendar_note(a.submitted_at, a.answer_due),
        reviewed_at=a.reviewed_at,
        decided_at=a.decided_at,
        decided_by=a.decided_by,
        reason=a.reason,
        grant_id=grant_id,
    )


def grant_read(g: Grant, now: dt.datetime) -> GrantRead:
    return GrantRead(
        id=g.id,
        application_id=g.application_id,
        resource=g.resource_code,
        consumer=g.consumer.code,
        provider=g.provider.code,
        fields=list(g.fields),
        plain_fields=list(g.plain_fields),
        purpose=g.purpose,
        conditional=g.conditional,
        rate_per_minute=g.rate_per_minute,
        rows_per_day=g.rows_per_day,
        granted_at=g.granted_at,
        expires_at=g.expires_at,
        renewed_at=g.renewed_at,
        revoked_at=g.revoked_at,
        revoked_by=g.revoked_by,
        revoke_reason=g.revoke_reason,
        state=state_of(g, now),
    )


def client_read(c: ApiClient) -> ClientRead:
    return ClientRead(
        client_id=c.id,
        name=c.name,
        role=c.role,
        department=c.department.code if c.department else None,
        created_at=c.created_at,
        created_by=c.created_by,
        revoked_at=c.revoked_at,
        last_token_at=c.last_token_at,
        approved_at=c.approved_at,
        approved_by=c.approved_by,
    )
