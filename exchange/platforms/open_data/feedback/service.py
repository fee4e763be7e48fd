"""Visitors' problem reports and the providers' answers; optional public API keys."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.platforms.open_data.errors import BadParameter, FeedbackNotFound, NotProvider
from exchange.platforms.open_data.feedback import repository as repo
from exchange.platforms.open_data.models import ApiKey, Feedback

KINDS = ("error", "missing", "outdated", "other")
MESSAGE_CHARS = (10, 2000)
ANSWER_CHARS = (2, 4000)
KEY_RATE_PER_MINUTE = 1200
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{6,19}$")


@dataclass(frozen=True)
class StaffPrincipal:
    """A department's staff member, as the staff pages see them."""

    node_code: str
    department_code: str
    name: str


def _text(name: str, value: str | None, bounds: tuple[int, int]) -> str:
    value = (value or "").strip()
    low, high = bounds
    if not low <= len(value) <= high:
        raise BadParameter(name, f"must be {low} to {high} characters, got {len(value)}")
    return value


def report(
    session: Session, code: str, *, kind: str, message: str, contact: str | None
) -> Feedback:
    """Record a visitor's report on a listed dataset (the caller checked it is listed)."""
    if kind not in KINDS:
        raise BadParameter("kind", f"must be one of {', '.join(KINDS)}")
    text = _text("message", message, MESSAGE_CHARS)
    contact = (contact or "").strip() or None
    if contact and not (len(contact) <= 200 and (_EMAIL.match(contact) or _PHONE.match(contact))):
        raise BadParameter("contact", "must be an e-mail address or a phone number, or empty")
    return repo.add_feedback(
        session, Feedback(resource_code=code, kind=kind, message=text, contact=contact)
    )


def for_dataset(session: Session, code: str) -> Sequence[Feedback]:
    return repo.feedback_for_dataset(session, code)


def for_staff(
    session: Session, staff: StaffPrincipal, *, status: str | None = None, limit: int = 200
) -> Sequence[tuple[Feedback, str]]:
    if status not in (None, "open", "answered"):
        raise BadParameter("status", "must be open or answered")
    return repo.feedback_for_provider(
        session, staff.node_code, staff.department_code, status=status, limit=limit
    )


def answer(session: Session, staff: StaffPrincipal, feedback_id: str, text: str) -> Feedback:
    try:
        fid = uuid.UUID(feedback_id)
    except ValueError:
        raise FeedbackNotFound(feedback_id) from None
    found = repo.get_feedback(session, fid)
    if found is None:
        raise FeedbackNotFound(feedback_id)
    item, provider_code = found
    if provider_code != staff.department_code:
        raise NotProvider(staff.department_code, item.resource_code)
    item.answer = _text("answer", text, ANSWER_CHARS)
    item.answered_by = staff.name[:128]
    item.answered_at = utcnow()
    item.status = "answered"
    session.flush()
    return item


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_api_key(session: Session, *, label: str, contact: str) -> tuple[ApiKey, str]:
    """A new key; the raw value is returned once and only its hash is stored."""
    label = _text("label", label, (2, 100))
    contact = contact.strip()
    if not _EMAIL.match(contact) or len(contact) > 200:
        raise BadParameter("contact", "must be an e-mail address")
    raw = "od_" + secrets.token_urlsafe(24)
    key = repo.add_api_key(
        session,
        ApiKey(
            key_sha256=_digest(raw),
            label=label,
            contact=contact,
            rate_per_minute=KEY_RATE_PER_MINUTE,
        ),
    )
    return key, raw


def find_api_key(session: Session, raw: str) -> ApiKey | None:
    if not raw.startswith("od_") or len(raw) > 100:
        return None
    return repo.api_key_by_hash(session, _digest(raw))
