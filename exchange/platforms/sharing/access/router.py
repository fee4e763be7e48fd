"""Routes: the token endpoint, key discovery, "what may I call", and API client management."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from exchange.core import ratelimit
from exchange.core.deps import DbSession, ReadSession, keep_on_failure
from exchange.directory import repository as directory_repo
from exchange.directory import service as directory
from exchange.directory.models import Department
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access import tokens
from exchange.platforms.sharing.access.schemas import (
    Allowed,
    ClientCreate,
    ClientIssued,
    ClientRead,
    DepartmentCreate,
    DepartmentRead,
    TokenResponse,
)
from exchange.platforms.sharing.applications.views import client_read
from exchange.platforms.sharing.deps import (
    Admin,
    AuthFirstRoute,
    DepartmentActive,
    EnvDep,
    GovernmentCaller,
)
from exchange.platforms.sharing.errors import (
    InvalidClient,
    InvalidTokenRequest,
    UnsupportedGrantType,
)
from exchange.platforms.sharing.grants import service as grants

router = APIRouter(route_class=AuthFirstRoute, tags=["sharing: credentials"])
TOKEN_TRIES_PER_MINUTE = 30
FREE_FAILURES = 5  # then each failure doubles the wait: 1 s, 2 s, 4 s, ... (15 min at most)
BACKOFF_WINDOW_S = 900


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _basic(request: Request) -> tuple[str, str] | None:
    """client_id and secret from HTTP Basic (RFC 6749 §2.3.1), if the client sent them so."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidTokenRequest("malformed Basic credentials") from None
    if not sep:
        raise InvalidTokenRequest("malformed Basic credentials")
    return unquote(user), unquote(password)


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="OAuth2 client credentials: exchange client_id + secret for a short-lived JWT",
)
def token(
    request: Request,
    session: DbSession,
    env: EnvDep,
    # Declared as RFC 6749 §4.4 says; any other value is the RFC's 400 unsupported_grant_type.
    grant_type: Annotated[str, Form(json_schema_extra={"enum": ["client_credentials"]})],
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
) -> JSONResponse:
    if grant_type != "client_credentials":
        raise UnsupportedGrantType(grant_type)
    basic = _basic(request)
    if basic:
        client_id, client_secret = basic
    if not client_id or not client_secret:
        raise InvalidClient()  # RFC 6749 §5.2: "no client authentication included" is 401
    # Keyed by the client's canonical id and the caller's address: other spellings of one
    # UUID share a budget, and failures from elsewhere never lock the real client out.
    who = f"{credentials.canonical_client_id(client_id)}:{_address(request)}"
    ratelimit.hit_request(
        request, session, f"sharing-token:{who}", limit=TOKEN_TRIES_PER_MINUTE, window_s=60
    )
    failures = f"sharing-token-failed:{who}"
    wait = ratelimit.backoff_wait(session, failures, free=FREE_FAILURES, window_s=BACKOFF_WINDOW_S)
    if wait:
        raise ratelimit.Throttled("this client from this address", wait)
    try:
        issued = credentials.issue_token(
            session,
            env.keys.current(),
            env.node_code,
            env.settings.token_ttl_s,
            client_id,
            client_secret,
        )
    except InvalidClient:
        keep_on_failure(
            request, lambda s: ratelimit.note_failure(s, failures, window_s=BACKOFF_WINDOW_S)
        )
        raise
    body = TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)
    # RFC 6749 §5.1: token responses must not be cached.
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


@router.get(
    "/.well-known/jwks.json",
    summary="The node's public keys for verifying its tokens (several while it rotates keys)",
)
def jwks(env: EnvDep) -> dict[str, list[dict[str, str]]]:
    return {"keys": tokens.jwks(env.verifier)}


@router.get("/allowed", response_model=Allowed, summary="What may I call? (exactly, right now)")
def allowed(who: DepartmentActive, session: DbSession, env: EnvDep) -> Allowed:
    return grants.allowed(session, env.schemas, who)


@router.post("/clients", response_model=ClientIssued, status_code=201, summary="New API client")
def create_client(body: ClientCreate, who: Admin, session: DbSession, env: EnvDep) -> ClientIssued:
    client, secret = credentials.create_client(
        session,
        env.node_code,
        name=body.name,
        role=body.role,
        department=body.department,
        by=who.actor,
        department_approves=True,
    )
    return ClientIssued(**client_read(client).model_dump(), client_secret=secret)


@router.post(
    "/clients/{client_id}/approve",
    response_model=ClientRead,
    summary="The department approves a client the bureau made for it (until then: no token)",
)
def approve_client(client_id: uuid.UUID, who: DepartmentActive, session: DbSession) -> ClientRead:
    return client_read(credentials.approve_client(session, who, client_id))


@router.get("/clients", response_model=list[ClientRead], summary="API clients")
def list_clients(who: Admin, session: DbSession) -> list[ClientRead]:
    return [client_read(c) for c in credentials.listed(session)]


@router.post(
    "/clients/{client_id}/revoke", response_model=ClientRead, summary="Revoke a client at once"
)
def revoke_client(client_id: uuid.UUID, who: Admin, session: DbSession) -> ClientRead:
    return client_read(credentials.revoke_client(session, client_id))


@router.get(
    "/departments", response_model=list[DepartmentRead], summary="The departments of this node"
)
def list_departments(
    who: GovernmentCaller, session: ReadSession, env: EnvDep
) -> list[DepartmentRead]:
    return [_department(d) for d in directory_repo.list_departments(session, env.node_code)]


@router.post(
    "/departments",
    response_model=DepartmentRead,
    status_code=201,
    summary="Add a department (also one that only consumes) to this node's directory",
)
def add_department(
    body: DepartmentCreate, who: Admin, session: DbSession, env: EnvDep
) -> DepartmentRead:
    d = directory.add_department(session, env.node_code, body.code, body.name, body.parent_org)
    return _department(d)


def _department(d: Department) -> DepartmentRead:
    return DepartmentRead(node_code=d.node_code, code=d.code, name=d.name, parent_org=d.parent_org)
