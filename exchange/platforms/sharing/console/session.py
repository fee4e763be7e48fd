"""Console sessions, kept on the server: the cookie holds a random token, the database its
SHA-256, the user, the CSRF token and the expiry. Logout ends the session at once, and so do
disabling the user and resetting the password (every session of the user).

The cookie is HttpOnly and SameSite=Strict; every form carries the session's CSRF token in a
hidden field (synchronizer token), and the login form, used before a session exists, carries
one bound to a short-lived sealed login cookie (double submit). Each request reloads the user,
so a disabled user is out at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.sealed import open_value, seal_value
from exchange.platforms.sharing.access import repository as repo
from exchange.platforms.sharing.models import ConsoleSessionRow

SESSION_COOKIE = "hub_console"
LOGIN_COOKIE = "hub_console_login"
LOGIN_TTL_S = 900
_TOKEN_CHARS = 43  # token_urlsafe(32)
SLIDE_STEP = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class ConsoleSession:
    user_id: uuid.UUID
    csrf: str
    expires: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_session(cookie: str | None) -> bool:
    """A cheap check before any body is read: a token of our shape (the database decides)."""
    return bool(cookie) and len(cookie or "") == _TOKEN_CHARS and (cookie or "").isascii()


def new_session(
    db: Session, user_id: uuid.UUID, hours: int, idle: dt.timedelta | None = None
) -> tuple[str, ConsoleSession]:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    lifetime = dt.timedelta(hours=hours)
    row = ConsoleSessionRow(
        token_sha256=_digest(token),
        user_id=user_id,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + (min(lifetime, idle) if idle else lifetime),
    )
    repo.add_console_session(db, row)
    return token, ConsoleSession(user_id, row.csrf, int(row.expires_at.timestamp()))


def read_session(
    db: Session, cookie: str | None, *, idle: dt.timedelta | None = None, hours: int = 0
) -> ConsoleSession | None:
    """The live session of `cookie`. With `idle`, its expiry slides: each use keeps it open
    for `idle` more, never past `hours` after sign-in (an unattended screen closes itself)."""
    if not looks_like_session(cookie):
        return None
    assert cookie is not None
    now = utcnow()
    row = repo.live_console_session(db, _digest(cookie), now)
    if row is None:
        return None
    if idle is not None:
        slid = min(row.created_at + dt.timedelta(hours=hours), now + idle)
        if slid - row.expires_at > SLIDE_STEP:  # not a write on every click
            row.expires_at = slid
            db.flush()
    return ConsoleSession(row.user_id, row.csrf, int(row.expires_at.timestamp()))


def end_session(db: Session, cookie: str | None) -> None:
    if looks_like_session(cookie):
        assert cookie is not None
        repo.end_console_sessions(db, utcnow(), token_sha256=_digest(cookie))


def end_sessions_of(db: Session, user_id: uuid.UUID) -> int:
    return repo.end_console_sessions(db, utcnow(), user_id=user_id)


def new_login_token(key: bytes) -> str:
    return seal_value(key, {"l": secrets.token_urlsafe(16), "e": int(time.time()) + LOGIN_TTL_S})


def login_token_ok(key: bytes, cookie: str | None, form_value: str | None) -> bool:
    if not cookie or not form_value or not (cookie + form_value).isascii():
        return False  # (compare_digest raises on non-ASCII strings; no token of ours is one)
    if not hmac.compare_digest(cookie, form_value):
        return False
    try:
        doc = open_value(key, cookie)
        return int(doc["e"]) > time.time()
    except (ValueError, KeyError, TypeError):
        return False


def csrf_ok(session: ConsoleSession, form_value: str | None) -> bool:
    if not form_value or not form_value.isascii():  # (as in login_token_ok)
        return False
    return hmac.compare_digest(session.csrf, form_value)
