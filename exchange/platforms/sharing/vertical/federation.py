"""The federated catalogue: what this node shares with other levels, what its neighbours
share (their own and what they learned further on), pulled from each neighbour every few
seconds by the node's background process. A pull is the whole current list, so a node that
was down catches up with its first pass; an entry a neighbour no longer lists is dropped.
不予共享 (not shared) entries are never listed, nor sent on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import httpx
from sqlalchemy.orm import Session

from exchange.core import divisions
from exchange.core.db import session_scope, utcnow
from exchange.core.resource_schema import ResourceSchema
from exchange.core.runtime import Runtime
from exchange.directory import repository as directory
from exchange.platforms.sharing.vertical import client
from exchange.platforms.sharing.vertical import repository as repo
from exchange.platforms.sharing.vertical.models import FederatedEntry
from exchange.platforms.sharing.vertical.schemas import FederatedEntryRead, FederatedList
from exchange.platforms.sharing.vertical.service import share_levels

log = logging.getLogger("hub.sharing.federation")
NOT_SHARED = "none"


def own_entries(
    session: Session, me: str, schemas: dict[str, ResourceSchema]
) -> list[FederatedEntryRead]:
    """This node's published resources shared beyond its own level."""
    level = divisions.level_of(me)
    out = []
    for r in directory.list_resources(session):
        schema = schemas.get(r.code)
        if schema is None or r.status != "published" or r.share_class == NOT_SHARED:
            continue
        levels = share_levels(schema, me)
        if set(levels) <= {level}:
            continue
        out.append(
            FederatedEntryRead(
                provider_node=me,
                code=r.code,
                title=r.title,
                provider_department=schema.catalog.provider,
                provider_name=schema.catalog.provider_name,
                share_class=r.share_class,
                open_class=r.open_class,
                share_levels=levels,
            )
        )
    return out


def listing_for(
    session: Session, me: str, schemas: dict[str, ResourceSchema], neighbour: str
) -> FederatedList:
    """What this node tells `neighbour`: its own entries and those it learned from its other
    neighbours (never the neighbour's own back)."""
    learned = [
        FederatedEntryRead.model_validate(e)
        for e in repo.federated(session, exclude_via=neighbour)
        if e.provider_node != neighbour and e.share_class != NOT_SHARED
    ]
    return FederatedList(node=me, entries=own_entries(session, me, schemas) + learned)


def visible(session: Session, me: str) -> Sequence[FederatedEntry]:
    """Other nodes' entries shared with this node's level: its federated catalogue."""
    level = divisions.level_of(me)
    return [e for e in repo.federated(session) if level in e.share_levels]


def neighbours(rt: Runtime) -> dict[str, str]:
    s = rt.settings
    out = {c.code: c.url for c in s.children}
    if s.parent is not None:
        out[s.parent.code] = s.parent.url
    return out


def sync_once(rt: Runtime, http: httpx.Client) -> dict[str, int | str]:
    """Pull every neighbour's list; per neighbour, how many entries it listed (or why not)."""
    me = rt.settings.node_code
    done: dict[str, int | str] = {}
    for code, url in neighbours(rt).items():
        try:
            page = client.fetch_catalog(http, me, rt.node_key_file, url)
        except Exception as exc:  # that neighbour's entries stay as last listed
            done[code] = f"{type(exc).__name__}: {exc}"[:200]
            continue
        now = utcnow()
        rows = [
            FederatedEntry(
                provider_node=e.provider_node,
                code=e.code,
                via=code,
                title=e.title,
                provider_department=e.provider_department,
                provider_name=e.provider_name,
                share_class=e.share_class,
                open_class=e.open_class,
                share_levels=list(e.share_levels),
                seen_at=now,
            )
            for e in page.entries
            if e.provider_node != me and e.share_class != NOT_SHARED
        ]
        with session_scope(rt.sessions) as session:
            done[code] = repo.replace_from(session, code, rows)
    return done


def sync_logged(rt: Runtime, http: httpx.Client) -> None:
    try:
        for code, result in sync_once(rt, http).items():
            if isinstance(result, str):
                log.warning("federated catalogue: neighbour %s not listed: %s", code, result)
    except Exception:
        log.exception("federated catalogue sync failed")


class Pulls:
    """The pulls of the node's background pass: every PULL_EVERY_S at most, only for a node
    with neighbours."""

    PULL_EVERY_S = 2.0

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.http = httpx.Client() if neighbours(rt) else None
        self.last = 0.0

    def maybe(self) -> None:
        now = time.monotonic()
        if self.http is None or now - self.last < self.PULL_EVERY_S:
            return
        self.last = now
        sync_logged(self.rt, self.http)

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
