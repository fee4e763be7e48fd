"""Tables of relayed calls: the nonces seen (replay refusal) and each hop's four timestamps."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.db import Base, BigIntPK, JSONDoc


class RelayNonce(Base):
    """A relayed request's nonce, kept past the signature's clock window (300 s): a request
    sent again inside the window is refused as a replay, one sent after it as stale."""

    __tablename__ = "sharing_relay_nonce"

    nonce: Mapped[str] = mapped_column(String(36), primary_key=True)
    caller: Mapped[str] = mapped_column(String(12))  # the neighbouring node that signed it
    seen_at: Mapped[dt.datetime] = mapped_column(index=True)


class RelayHop(Base):
    """This node's part in one call across levels (X-Road operational monitoring): when the
    request came in and went out, when the response came in and went out, and to whom.

    At the provider `request_out`/`response_in` bracket its own read. The hop's hash-chained
    audit entry carries the same request id.
    """

    __tablename__ = "sharing_relay_hop"
    __table_args__ = (Index("ix_sharing_relay_hop_request_id", "request_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(8))  # origin | relay | provider
    upstream: Mapped[str] = mapped_column(String(128))  # the caller: a department or a node
    downstream: Mapped[str | None] = mapped_column(String(12))  # next node; None at the provider
    provider_node: Mapped[str] = mapped_column(String(12))
    resource: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    request_in: Mapped[dt.datetime]
    request_out: Mapped[dt.datetime]
    response_in: Mapped[dt.datetime]
    response_out: Mapped[dt.datetime]
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))


class FederatedEntry(Base):
    """A catalogue entry another node shares with other levels, as the neighbour `via` last
    listed it (the federated catalogue: each node pulls its parent's and children's lists)."""

    __tablename__ = "sharing_federated_entry"

    provider_node: Mapped[str] = mapped_column(String(12), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    via: Mapped[str] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(200))
    provider_department: Mapped[str] = mapped_column(String(32))
    provider_name: Mapped[str] = mapped_column(String(128))
    share_class: Mapped[str] = mapped_column(String(16))
    open_class: Mapped[str] = mapped_column(String(16))
    share_levels: Mapped[list[str]] = mapped_column(JSONDoc)
    seen_at: Mapped[dt.datetime]  # when `via` last listed it


class RemoteGrant(Base):
    """This node's signed copy of an application its department made at another level's
    node, and of the grant it yielded. The grant itself lives at the provider, which decides
    every read; the copy is updated when the provider answers (a refresh, or a refused read)."""

    __tablename__ = "sharing_remote_grant"

    provider_node: Mapped[str] = mapped_column(String(12), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    department: Mapped[str] = mapped_column(String(32))
    resource: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    grant_id: Mapped[uuid.UUID | None]
    grant_expires_at: Mapped[dt.datetime | None]
    refused: Mapped[str | None] = mapped_column(String(40))
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime]
