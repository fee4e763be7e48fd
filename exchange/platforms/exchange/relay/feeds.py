"""The exchange platform's answer to `ports.DepartmentFeeds`: subscriptions to a department."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy.orm import Session

from exchange.core.runtime import Runtime
from exchange.platforms.exchange.relay import repository as repo
from exchange.platforms.exchange.relay import routing


class Feeds:
    def open(
        self, session: Session, rt: Runtime, resource: str, department: str | None
    ) -> uuid.UUID:
        return routing.subscribe(session, rt, resource, department=department).id

    def active(self, session: Session, feed_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        return repo.active_among(session, feed_ids)

    def stop(self, session: Session, feed_ids: Collection[uuid.UUID]) -> None:
        repo.deactivate(session, feed_ids)

    def withdraw_pending(self, session: Session, department_id: uuid.UUID, resource: str) -> int:
        return repo.withdraw_pending(session, department_id, resource)


FEEDS = Feeds()
