"""Console sessions: a sealed, expiring cookie naming the user, and a CSRF token bound to it.

The cookie is HttpOnly and SameSite=Strict; every form carries the session's CSRF token in a
hidden field (synchronizer token), and the login form, used before a session exists, carries
one bound to a short-lived login cookie (double submit). Each request reloads the user, so a
disabled user is out at once.
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

from exchange.core.sealed import open_value, seal_value

SESSION_COOKIE = "hub_console"
LOGIN_COOKIE = "hub_console_login"
LOGIN_TTL_S = 900


@dataclass(frozen=True)
class ConsoleSession:
    user_id: uuid.UUID
    csrf: str
    expires: int


def new_session(key: bytes, user_id: uuid.UUID, hours: int) -> tuple[str, ConsoleSession]:
    s = ConsoleSession(user_id, secrets.token_urlsafe(24), int(time.time()) + hours * 3600)
    return seal_value(key, {"u": str(s.user_id), "c": s.csrf, "e": s.expires}), s


def read_session(key: bytes, cookie: str | None) -> ConsoleSession | None:
    if not cookie:
        return None
    try:
        doc = open_value(key, cookie)
        s = ConsoleSession(uuid.UUID(doc["u"]), str(doc["c"]), int(doc["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return s if s.expires > time.time() else None


def new_login_token(key: bytes) -> str:
    return seal_value(key, {"l": secrets.token_urlsafe(16), "e": int(time.time()) + LOGIN_TTL_S})


def login_token_ok(key: bytes, cookie: str | None, form_value: str | None) -> bool:
    if not cookie or not form_value or not hmac.compare_digest(cookie, form_value):
        return False
    try:
        doc = open_value(key, cookie)
        return int(doc["e"]) > time.time()
    except (ValueError, KeyError, TypeError):
        return False


def csrf_ok(session: ConsoleSession, form_value: str | None) -> bool:
    return bool(form_value) and hmac.compare_digest(session.csrf, str(form_value))
