"""Applications across levels. At the provider's node: the applicant department enters the
directory as `NODE/DEPT`, and its application follows every local rule (share class, fields,
deadlines, review by the provider in its console); the answer is signed with the provider
node's key. At the applicant's node: the signed answer is kept as its copy of the grant, and
brought up to date whenever the provider says otherwise (a refresh, a refused read)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from exchange.core import divisions, signing
from exchange.core.db import utcnow
from exchange.core.signing import KeySource
from exchange.directory import repository as directory
from exchange.directory.models import Department, Node
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.applications import service as applications
from exchange.platforms.sharing.applications.views import application_read
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.errors import ResourceNotFound
from exchange.platforms.sharing.grants import repository as grants
from exchange.platforms.sharing.vertical import repository as repo
from exchange.platforms.sharing.vertical.errors import BadRelayBody, NotSharedWithLevel
from exchange.platforms.sharing.vertical.models import RemoteGrant
from exchange.platforms.sharing.vertical.schemas import RelayedRead, SignedDecision
from exchange.platforms.sharing.vertical.service import share_levels

# What a provider's refusal of a read means for the copy at the applicant's node.
REFUSALS = {"GrantExpired": "expired", "GrantRevoked": "revoked", "NoGrant": "withdrawn"}


def signed_message(document: dict[str, Any], expires: dt.datetime | None) -> bytes:
    doc = {"application": document, "grant_expires_at": expires.isoformat() if expires else None}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return b"hub-application/v1\n" + text.encode()


def admit_department(session: Session, node_code: str, code: str) -> Department:
    """The applicant in this node's directory (its node too, for the foreign key)."""
    if directory.get_node(session, node_code) is None:
        directory.save_node(
            session,
            Node(
                code=node_code,
                level=divisions.level_of(node_code),
                name=divisions.name_of(node_code),
                parent_code=divisions.parent_of(node_code),
            ),
        )
    found = directory.get_department(session, node_code, code)
    if found is not None:
        return found
    name = f"{divisions.name_of(node_code)} {code}"
    return directory.add_department(session, Department(node_code=node_code, code=code, name=name))


def decide_here(
    session: Session, env: SharingEnv, keys: KeySource, body: RelayedRead, via: str
) -> tuple[int, SignedDecision]:
    """The provider's side of an application (or of a question about one)."""
    if body.action == "apply":  # a question about an application passed this check before
        schema = env.schemas.get(body.resource)
        if schema is None:
            raise ResourceNotFound(body.resource)
        levels = share_levels(schema, env.node_code)
        if divisions.level_of(body.origin) not in levels:
            raise NotSharedWithLevel(body.resource, env.node_code, levels, body.origin)
    dept = admit_department(session, body.origin, body.caller.department)
    who = Principal(
        kind="node", id=dept.id, name=f"{body.origin} {body.caller.actor} via {via}"[:120],
        role=Role.department, node_code=body.origin, department_id=dept.id,
        department_code=dept.code,
    )  # fmt: skip
    ctx = applications.Context(env.settings, env.schemas, env.store)
    if body.action == "apply":
        if body.application is None or body.application.resource != body.resource:
            raise BadRelayBody("an application names its resource and is sent with it")
        app_id, status = applications.apply(session, ctx, who, body.application).id, 201
    else:
        if body.application_id is None:
            raise BadRelayBody("a status question names the application")
        app_id, status = applications.visible(session, who, body.application_id).id, 200
    app, grant_id = applications.read_back(session, app_id)
    document = application_read(app, grant_id, utcnow()).model_dump(mode="json")
    grant = grants.get_grant(session, grant_id) if grant_id else None
    expires = grant.expires_at if grant else None
    pair = keys.current()
    return status, SignedDecision(
        provider_node=env.node_code,
        document=document,
        grant_expires_at=expires,
        key_id=pair.key_id,
        signature=pair.sign(signed_message(document, expires)),
    )


def keep_copy(session: Session, decision: SignedDecision, department: str) -> RemoteGrant:
    doc = decision.document
    grant_id = doc.get("grant_id")
    copy = RemoteGrant(
        provider_node=decision.provider_node,
        application_id=uuid.UUID(str(doc["id"])),
        department=department,
        resource=str(doc["resource"]),
        status=str(doc["status"]),
        grant_id=uuid.UUID(str(grant_id)) if grant_id else None,
        grant_expires_at=decision.grant_expires_at,
        refused=None,
        document=doc,
        key_id=decision.key_id,
        signature=decision.signature,
        updated_at=utcnow(),
    )
    return repo.save_copy(session, copy)


def note_refusal(
    session: Session, provider: str, resource: str, department: str, outcome: str
) -> None:
    """The provider refused a read the copy would allow: the copy says so from now on."""
    if outcome in REFUSALS:
        repo.mark_copies(session, provider, resource, department, REFUSALS[outcome], outcome)


def verify_copy(copy: RemoteGrant, public_key: str) -> bool:
    message = signed_message(copy.document, copy.grant_expires_at)
    return signing.verify(public_key, message, copy.signature)
