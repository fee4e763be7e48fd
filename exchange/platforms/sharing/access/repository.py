"""SQL for API clients and console users."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from exchange.platforms.sharing.models import ApiClient, ConsoleSessionRow, ConsoleUser


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def get_client(session: Session, client_id: uuid.UUID) -> ApiClient | None:
    return session.scalars(
        select(ApiClient).options(joinedload(ApiClient.department)).where(ApiClient.id == client_id)
    ).first()


def list_clients(session: Session) -> Sequence[ApiClient]:
    return session.scalars(
        select(ApiClient).options(joinedload(ApiClient.department)).order_by(ApiClient.created_at)
    ).all()


def client_is_active(session: Session, client_id: uuid.UUID) -> bool:
    found = session.scalar(select(ApiClient.revoked_at.is_(None)).where(ApiClient.id == client_id))
    return bool(found)


def mark_token_issued(session: Session, client_id: uuid.UUID, at: dt.datetime) -> None:
    session.execute(update(ApiClient).where(ApiClient.id == client_id).values(last_token_at=at))


def get_user(session: Session, user_id: uuid.UUID) -> ConsoleUser | None:
    return session.scalars(
        select(ConsoleUser)
        .options(joinedload(ConsoleUser.department))
        .where(ConsoleUser.id == user_id)
    ).first()


def get_user_by_name(session: Session, username: str) -> ConsoleUser | None:
    return session.scalars(
        select(ConsoleUser)
        .options(joinedload(ConsoleUser.department))
        .where(ConsoleUser.username == username)
    ).first()


def list_users(session: Session) -> Sequence[ConsoleUser]:
    return session.scalars(
        select(ConsoleUser)
        .options(joinedload(ConsoleUser.department))
        .order_by(ConsoleUser.username)
    ).all()


def add_console_session(session: Session, row: ConsoleSessionRow) -> None:
    session.add(row)
    session.flush()


def live_console_session(
    session: Session, token_sha256: str, now: dt.datetime
) -> ConsoleSessionRow | None:
    return session.scalars(
        select(ConsoleSessionRow).where(
            ConsoleSessionRow.token_sha256 == token_sha256,
            ConsoleSessionRow.ended_at.is_(None),
            ConsoleSessionRow.expires_at > now,
        )
    ).first()


def end_console_sessions(
    session: Session, now: dt.datetime, *, token_sha256: str | None = None,
    user_id: uuid.UUID | None = None,
) -> int:  # fmt: skip
    stmt = update(ConsoleSessionRow).where(ConsoleSessionRow.ended_at.is_(None))
    if token_sha256 is not None:
        stmt = stmt.where(ConsoleSessionRow.token_sha256 == token_sha256)
    if user_id is not None:
        stmt = stmt.where(ConsoleSessionRow.user_id == user_id)
    result = session.execute(stmt.values(ended_at=now))
    return int(getattr(result, "rowcount", 0) or 0)
