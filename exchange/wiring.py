"""The composition root: each port of `exchange.core.ports` answered by the part that owns the
rule. `wire()` is idempotent and cheap (each answer is imported on first use, so a `hub` command
starts no slower); every entry point calls it: create_app, `hub`, DAG tasks, the seeder."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from sqlalchemy.orm import Session

from exchange.catalogue import hooks as catalogue_hooks
from exchange.core import ports
from exchange.core.resource_schema import ResourceSchema
from exchange.core.runtime import Runtime


def wire() -> None:
    ports.install(
        admission=_admit,
        feeds=_Feeds(),
        stored_metrics=_stored_metrics,
        node_authentication=_node_caller,
        release=_release,
    )
    catalogue_hooks.install(_refresh_portal)


def _refresh_portal(session: Session, schemas: Mapping[str, ResourceSchema]) -> None:
    """A resource published or withdrawn is (un)listed on the portal at once."""
    from exchange.platforms.open_data.portal.service import refresh_catalog

    refresh_catalog(session, schemas)


def _admit(
    session: Session, rt: Runtime, request: ports.DeliveryRequest, /
) -> ports.Admitted | None:
    from exchange.platforms.sharing.bulk.admission import admit_delivery

    return admit_delivery(session, rt, request)


def _release(
    session: Session, rt: Runtime, department_id: uuid.UUID, resource: str, rows: int, /
) -> None:
    from exchange.platforms.sharing.bulk.admission import release_delivery

    release_delivery(session, rt, department_id, resource, rows)


def _node_caller(
    session: Session,
    *,
    me: str,
    authorization: str | None,
    method: str,
    target: str,
    content_sha256: str,
) -> str:
    from exchange.platforms.exchange.auth import authenticate
    from exchange.platforms.exchange.errors import UnknownCaller

    caller = authenticate(
        session,
        me=me,
        authorization=authorization,
        method=method,
        target=target,
        content_sha256=content_sha256,
    )
    if caller.kind != "node":
        raise UnknownCaller(caller.key_id)
    return caller.node_code


def _stored_metrics(session: Session) -> str:
    from exchange.pipelines.exposition import render

    return render(session)


class _Feeds:
    @staticmethod
    def _impl() -> ports.DepartmentFeeds:
        from exchange.platforms.exchange.relay.feeds import FEEDS

        return FEEDS

    def open(
        self, session: Session, rt: Runtime, resource: str, department: str | None
    ) -> uuid.UUID:
        return self._impl().open(session, rt, resource, department)

    def active(self, session: Session, feed_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        return self._impl().active(session, feed_ids)

    def stop(self, session: Session, feed_ids: Collection[uuid.UUID]) -> None:
        self._impl().stop(session, feed_ids)

    def withdraw_pending(self, session: Session, department_id: uuid.UUID, resource: str) -> int:
        return self._impl().withdraw_pending(session, department_id, resource)
