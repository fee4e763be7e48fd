"""Behaviour every registry shares, written once: loading, lookups in time, history, exports.

A registry module states only what differs: its kind, its resources and its own queries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cached_property
from typing import Any

import pyarrow as pa
from sqlalchemy import FromClause, Row, and_, select
from sqlalchemy.orm import Session

from basebases.protocol import Record
from exchange.core.db import utcnow
from exchange.core.errors import BadRequest, NotFound
from exchange.core.resource_schema import SCHEMAS_DIR, ResourceSchema, load_all
from exchange.datastore.ingest import Ingested, gate_and_load
from exchange.datastore.tables import ResourceTables, tables_for


class AsOfInFuture(BadRequest):
    def __init__(self, what: str, when: dt.datetime) -> None:
        super().__init__(f"{what} {when.isoformat()} is in the future: the registry cannot know it")


class UnknownRegistryResource(NotFound):
    def __init__(self, kind: str, resource: str) -> None:
        super().__init__(f"registry {kind} keeps no resource {resource!r}")


class BaseRegistry:
    kind: str = ""
    resources: tuple[str, ...] = ()
    schemas_dir = SCHEMAS_DIR

    @cached_property
    def _schemas(self) -> dict[str, ResourceSchema]:
        return load_all(self.schemas_dir)

    @property
    def schema(self) -> ResourceSchema:
        """The registry's main resource (the first one)."""
        return self.schema_of(self.resources[0])

    def schema_of(self, resource: str | None) -> ResourceSchema:
        code = resource or self.resources[0]
        if code not in self.resources:
            raise UnknownRegistryResource(self.kind, code)
        return self._schemas[code]

    def tables(self, resource: str | None = None) -> ResourceTables:
        return tables_for(self.schema_of(resource))

    # -- writing -------------------------------------------------------------------------
    def load(
        self,
        session: Session,
        batch: pa.RecordBatchReader,
        *,
        resource: str | None = None,
        valid_from: dt.datetime | None = None,
    ) -> Ingested:
        """Gate and load rows (insert, update, or `_op` = delete as a tombstone), all or none."""
        return gate_and_load(
            session,
            self.schema_of(resource),
            batch,
            batch_id=uuid.uuid4(),
            recorded_at=utcnow(),
            valid_from=valid_from,
        )

    # -- reading -------------------------------------------------------------------------
    def _key_clause(
        self, table: FromClause, schema: ResourceSchema, key: str | tuple[Any, ...]
    ) -> Any:
        values = (key,) if isinstance(key, str) else tuple(key)
        if len(values) != len(schema.primary_key):
            raise BadRequest(
                f"{schema.code} is keyed by {', '.join(schema.primary_key)}: "
                f"give {len(schema.primary_key)} value(s), not {len(values)}"
            )
        return and_(*(table.c[k] == v for k, v in zip(schema.primary_key, values, strict=True)))

    def lookup(
        self,
        session: Session,
        key: str | tuple[Any, ...],
        *,
        as_of: dt.datetime | None = None,
        valid_at: dt.datetime | None = None,
        resource: str | None = None,
    ) -> Record | None:
        """The entity as the registry knew it at `as_of`, as it was in the world at `valid_at`.

        Both default to now; a deleted entity (tombstone) is None.
        """
        now = utcnow()
        for name, when in (("as_of", as_of), ("valid_at", valid_at)):
            if when is not None and when > now:
                raise AsOfInFuture(name, when)
        schema = self.schema_of(resource)
        t = tables_for(schema)
        if as_of is None and valid_at is None:
            row = session.execute(
                select(t.current).where(self._key_clause(t.current, schema, key))
            ).first()
            return None if row is None or row._deleted else self._record(schema, row)
        h = t.versions
        stmt = select(h).where(self._key_clause(h, schema, key))
        if as_of is not None:
            stmt = stmt.where(h.c._recorded_at <= as_of)
        if valid_at is not None:
            # The version in force at valid_at among those known at as_of: the latest to start.
            stmt = stmt.where(h.c._valid_from <= valid_at).order_by(
                h.c._valid_from.desc(), h.c._seq.desc()
            )
        else:
            stmt = stmt.order_by(h.c._seq.desc())
        row = session.execute(stmt.limit(1)).first()
        return None if row is None or row._deleted else self._record(schema, row)

    def history(
        self, session: Session, key: str | tuple[Any, ...], *, resource: str | None = None
    ) -> list[Record]:
        schema = self.schema_of(resource)
        h = tables_for(schema).versions
        rows = session.execute(
            select(h).where(self._key_clause(h, schema, key)).order_by(h.c._seq)
        ).all()
        return [self._record(schema, r) for r in rows]

    def _record(self, schema: ResourceSchema, row: Row[Any]) -> Record:
        m = row._mapping
        return Record(
            resource=schema.code,
            key=tuple(m[k] for k in schema.primary_key),
            values={name: m[name] for name in schema.field_names},
            version=m["_version"],
            deleted=bool(m["_deleted"]),
            seq=m["_seq"],
            recorded_at=_utc(m["_recorded_at"]),
            valid_from=_utc(m["_valid_from"]) if "_valid_from" in m else _utc(m["_recorded_at"]),
        )

    def rows(
        self, session: Session, *where: Any, resource: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Current, non-deleted rows matching `where` (columns of the current table)."""
        t = tables_for(self.schema_of(resource)).current
        stmt = select(*(t.c[n] for n in self.schema_of(resource).field_names))
        stmt = stmt.where(t.c._deleted.is_(False), *where).limit(limit)
        return [dict(r._mapping) for r in session.execute(stmt)]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
