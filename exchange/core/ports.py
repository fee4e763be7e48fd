"""What one platform asks of another, as small protocols.

Platforms never import each other: the exchange platform asks whether a batch may go to a
department (sharing answers for subscriptions made through a grant), and sharing's bulk exchange
asks the exchange platform to feed a department's inbox; `/metrics` adds the gauges the
assurance pipelines stored. `exchange.wiring.wire()` plugs the
answers in when a process starts (the app, `hub`, a DAG task); until then every question fails
loudly rather than deliver without the check.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

from exchange.core.store import StoredObject

if TYPE_CHECKING:
    from exchange.core.runtime import Runtime


@dataclass(frozen=True)
class Admitted:
    payload: StoredObject | None = None  # the delivery's own payload; None: the batch's


AS_PUBLISHED = Admitted()


@dataclass(frozen=True)
class DeliveryRequest:
    """An accepted batch about to be queued for a department's subscription."""

    batch_id: uuid.UUID
    resource_code: str
    rows: int
    payload: StoredObject  # the batch as its provider published it
    subscription_id: uuid.UUID


class DeliveryAdmission(Protocol):
    def __call__(
        self, session: Session, rt: Runtime, request: DeliveryRequest, /
    ) -> Admitted | None:
        """How the batch goes to the subscription's department, or None when it does not go."""
        ...


class DeliveryRelease(Protocol):
    def __call__(
        self, session: Session, rt: Runtime, department_id: uuid.UUID, resource: str, rows: int, /
    ) -> None:
        """Before a department's connector downloads a delivery of `rows` rows: raise (a 429
        naming the quota) when the grant it reads under has no room left today."""
        ...


class DepartmentFeeds(Protocol):
    """Subscriptions that deliver a resource's accepted batches to a department's inbox."""

    def open(
        self, session: Session, rt: Runtime, resource: str, department: str | None
    ) -> uuid.UUID: ...

    def active(self, session: Session, feed_ids: Collection[uuid.UUID]) -> set[uuid.UUID]: ...

    def stop(self, session: Session, feed_ids: Collection[uuid.UUID]) -> None: ...

    def withdraw_pending(self, session: Session, department_id: uuid.UUID, resource: str) -> int:
        """Take back what is queued for the department but not yet fetched; how many."""
        ...


StoredMetrics = Callable[[Session], str]  # Prometheus text of gauges kept in the database


class NodeAuthentication(Protocol):
    """Which neighbouring node signed a request (`Authorization: HubSig ...`); refusals raise.

    The sharing platform's audit anchoring is called node to node; the exchange platform owns
    how nodes prove who they are.
    """

    def __call__(
        self,
        session: Session,
        *,
        me: str,
        authorization: str | None,
        method: str,
        target: str,
        content_sha256: str,
    ) -> str: ...


class NotWired(RuntimeError):
    def __init__(self, port: str) -> None:
        super().__init__(f"{port} is not wired: call exchange.wiring.wire() at start")


@dataclass
class _Ports:
    admission: DeliveryAdmission | None = None
    feeds: DepartmentFeeds | None = None
    stored_metrics: StoredMetrics | None = None
    node_authentication: NodeAuthentication | None = None
    release: DeliveryRelease | None = None


_ports = _Ports()


def install(
    *,
    admission: DeliveryAdmission,
    feeds: DepartmentFeeds,
    stored_metrics: StoredMetrics,
    node_authentication: NodeAuthentication,
    release: DeliveryRelease | None = None,
) -> None:
    _ports.release = release
    _ports.admission = admission
    _ports.feeds = feeds
    _ports.stored_metrics = stored_metrics
    _ports.node_authentication = node_authentication


def delivery_admission() -> DeliveryAdmission:
    if _ports.admission is None:
        raise NotWired("delivery admission")
    return _ports.admission


def delivery_release() -> DeliveryRelease:
    if _ports.release is None:
        raise NotWired("delivery release")
    return _ports.release


def department_feeds() -> DepartmentFeeds:
    if _ports.feeds is None:
        raise NotWired("department feeds")
    return _ports.feeds


def stored_metrics() -> StoredMetrics:
    if _ports.stored_metrics is None:
        raise NotWired("stored metrics")
    return _ports.stored_metrics


def node_authentication() -> NodeAuthentication:
    if _ports.node_authentication is None:
        raise NotWired("node authentication")
    return _ports.node_authentication
