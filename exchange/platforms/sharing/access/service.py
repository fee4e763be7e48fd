"""Credentials: OAuth2 clients for systems, passwords for console users, both bound to a role.

A department's systems get an API client (client_id + secret, shown once, stored hashed) and
exchange it at POST /sharing/v1/token for a short-lived JWT (OAuth2 client credentials grant,
RFC 6749 §4.4). People sign in to the console with a username and password.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.errors import Unprocessable
from exchange.core.signing import KeyPair
from exchange.directory import repository as directory
from exchange.platforms.sharing.access import crypto, tokens
from exchange.platforms.sharing.access import repository as repo
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.errors import (
    ClientNotApproved,
    ClientNotFound,
    ClientRevoked,
    DepartmentRequired,
    InvalidClient,
    InvalidToken,
    NotYourClient,
    UnknownDepartment,
    UserExists,
    UserNotFound,
)
from exchange.platforms.sharing.models import ApiClient, ConsoleUser


def _department_id(
    session: Session, node_code: str, role: Role, department: str | None
) -> uuid.UUID | None:
    if role is Role.department:
        if not department:
            raise DepartmentRequired(role.value)
        dept = directory.get_department(session, node_code, department)
        if dept is None:
            raise UnknownDepartment(department)
        return dept.id
    if department:
        raise Unprocessable(f"role {role.value} is bureau-wide: it takes no department")
    return None


# -- API clients -------------------------------------------------------------------------------
def create_client(
    session: Session,
    node_code: str,
    *,
    name: str,
    role: Role,
    department: str | None,
    by: str,
    department_approves: bool = False,
) -> tuple[ApiClient, str]:
    """A new client and its secret; the secret is returned this once and never stored.

    `department_approves`: a department's client minted by the bureau's admin (the API) waits
    for that department's approval before it gets a token (三员分立: an admin cannot mint a
    client and read a department's data through it). `hub client add`, run on the server by
    the bureau to give a department its first credential, issues it approved.
    """
    secret = crypto.new_client_secret()
    pending = department_approves and role is Role.department
    client = ApiClient(
        name=name,
        role=role.value,
        department_id=_department_id(session, node_code, role, department),
        secret_sha256=crypto.secret_digest(secret),
        created_by=by,
        approved_at=None if pending else utcnow(),
        approved_by=None if pending else f"issued by {by}",
    )
    repo.add(session, client)
    found = repo.get_client(session, client.id)
    assert found is not None
    return found, secret


def approve_client(session: Session, who: Principal, client_id: uuid.UUID) -> ApiClient:
    """The department a pending client is for approves it (not the client itself)."""
    client = repo.get_client(session, client_id)
    if client is None or client.department_id != who.department_id:
        raise ClientNotFound(client_id)  # another department's client is not even named
    if who.kind == "client" and who.id == client.id:
        raise NotYourClient("a client cannot approve itself")
    if client.approved_at is None:
        client.approved_at = utcnow()
        client.approved_by = who.actor[:128]
        session.flush()
    return client


def revoke_client(session: Session, client_id: uuid.UUID) -> ApiClient:
    client = repo.get_client(session, client_id)
    if client is None:
        raise ClientNotFound(client_id)
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        session.flush()
    return client


def client_principal(client: ApiClient, node_code: str) -> Principal:
    dept = client.department
    return Principal(
        kind="client",
        id=client.id,
        name=str(client.id),
        role=Role(client.role),
        node_code=dept.node_code if dept else node_code,
        department_id=dept.id if dept else None,
        department_code=dept.code if dept else None,
        display_name=client.name,
        created_by=client.created_by,
    )


def canonical_client_id(client_id: str) -> str:
    """A client id as one spelling (lower-case, hyphenated UUID); anything else as one bucket."""
    try:
        return str(uuid.UUID(client_id))
    except ValueError:
        return "malformed"


def issue_token(
    session: Session, keys: KeyPair, node_code: str, ttl_s: int, client_id: str, secret: str
) -> tokens.IssuedToken:
    try:
        cid = uuid.UUID(client_id)
    except ValueError:
        raise InvalidClient() from None
    client = repo.get_client(session, cid)
    # One answer for every failure, so the endpoint tells an attacker nothing.
    if (
        client is None
        or client.revoked_at is not None
        or not crypto.secret_matches(secret, client.secret_sha256)
    ):
        raise InvalidClient()
    if client.approved_at is None:
        raise ClientNotApproved(client.id)
    repo.mark_token_issued(session, client.id, utcnow())
    return tokens.issue(keys, client_principal(client, node_code), ttl_s)


def ensure_active(session: Session, principal: Principal) -> None:
    """A token outlives nothing it was issued for: a revoked client or user stops at once."""
    if principal.kind == "client":
        if not repo.client_is_active(session, principal.id):
            raise ClientRevoked()
        return
    user = repo.get_user(session, principal.id)
    if user is None or not user.active or user.role != principal.role.value:
        raise InvalidToken("the user is disabled or changed role; sign in again")


# -- console users -----------------------------------------------------------------------------
def create_user(
    session: Session,
    node_code: str,
    *,
    username: str,
    password: str,
    role: Role,
    department: str | None,
) -> ConsoleUser:
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace(".", "").isalnum()
    ):
        raise Unprocessable("username: 1-64 letters, digits, '.' or '_'")
    if len(password) < 12:
        raise Unprocessable("password: at least 12 characters")
    if repo.get_user_by_name(session, username) is not None:
        raise UserExists(username)
    user = ConsoleUser(
        username=username,
        password_hash=crypto.hash_password(password),
        role=role.value,
        department_id=_department_id(session, node_code, role, department),
    )
    repo.add(session, user)
    found = repo.get_user(session, user.id)
    assert found is not None
    return found


def user_principal(user: ConsoleUser, node_code: str) -> Principal:
    dept = user.department
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=Role(user.role),
        node_code=dept.node_code if dept else node_code,
        department_id=dept.id if dept else None,
        department_code=dept.code if dept else None,
    )


def authenticate_user(
    session: Session, node_code: str, username: str, password: str
) -> Principal | None:
    user = repo.get_user_by_name(session, username)
    if user is None:
        crypto.hash_password(password)  # same time whether or not the user exists
        return None
    if not user.active or not crypto.password_matches(password, user.password_hash):
        return None
    return user_principal(user, node_code)


def disable_user(session: Session, username: str) -> ConsoleUser:
    """Disabled at once: every session of the user ends, and each request reloads the user."""
    user = _user_named(session, username)
    user.active = False
    repo.end_console_sessions(session, utcnow(), user_id=user.id)
    return user


def reset_password(session: Session, username: str, password: str | None = None) -> str:
    """A new password (random unless given); every session of the user ends."""
    user = _user_named(session, username)
    new = password or secrets.token_urlsafe(12)
    user.password_hash = crypto.hash_password(new)
    repo.end_console_sessions(session, utcnow(), user_id=user.id)
    session.flush()
    return new


def _user_named(session: Session, username: str) -> ConsoleUser:
    user = repo.get_user_by_name(session, username)
    if user is None:
        raise UserNotFound(username)
    return user


def active_user(session: Session, node_code: str, user_id: uuid.UUID) -> Principal | None:
    user = repo.get_user(session, user_id)
    if user is None or not user.active:
        return None
    return user_principal(user, node_code)


def listed(session: Session) -> list[ApiClient]:
    return list(repo.list_clients(session))


def users(session: Session) -> list[ConsoleUser]:
    return list(repo.list_users(session))
