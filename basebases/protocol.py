"""What every base registry is: a Protocol, so a registry is anything that behaves like one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa
from sqlalchemy.orm import Session

from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.ingest import Ingested


@dataclass(frozen=True)
class Record:
    """One version of one entity, with both of its times (bitemporal)."""

    resource: str
    key: tuple[Any, ...]
    values: dict[str, Any]
    version: int
    deleted: bool
    seq: int
    recorded_at: dt.datetime  # when the registry learnt it
    valid_from: dt.datetime  # since when it is true in the world


@runtime_checkable
class Registry(Protocol):
    kind: str  # "population", "legal_person", ...

    @property
    def resources(self) -> tuple[str, ...]:
        """The resources (schema files) this registry keeps."""
        ...

    @property
    def schema(self) -> ResourceSchema: ...

    def load(
        self,
        session: Session,
        batch: pa.RecordBatchReader,
        *,
        resource: str | None = None,
        valid_from: dt.datetime | None = None,
    ) -> Ingested: ...

    def lookup(
        self,
        session: Session,
        key: str | tuple[Any, ...],
        *,
        as_of: dt.datetime | None = None,
        valid_at: dt.datetime | None = None,
        resource: str | None = None,
    ) -> Record | None: ...

    def history(
        self, session: Session, key: str | tuple[Any, ...], *, resource: str | None = None
    ) -> list[Record]: ...
