"""A resource's first load on PostgreSQL: copy into an unindexed twin, index it, swap it in.

Keeping a table's btree indexes up to date row by row was two thirds of the server's work on a
first load (a million residents: about 4 s of 6.5 s); building each index after the rows are in
is one sort, which is what pg_restore does and what PostgreSQL's "Populating a Database" advises.
The twin replaces the empty table at the very end, under a lock held for milliseconds, so
readers of the (still empty) table are never kept waiting for the load. Everything happens in
the caller's transaction: a load that fails leaves the table as it was.

Only a table that carries nothing a swap would lose is swapped: no grants, triggers, views,
foreign keys, policies, publications, owned sequences or storage options, and owned by this
role. Anything else is loaded the usual way, through the stage.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

# What may depend on a swappable table: its indexes and TOAST table, its primary key / unique /
# check constraints, its row type and its column defaults. Anything else (a view's rule, a trigger,
# a foreign key, a policy, a publication, an owned sequence, ...) would be lost with it.
_SWAPPABLE = text(
    """
    SELECT c.relkind = 'r' AND NOT c.relispartition
       AND c.relacl IS NULL AND c.reloptions IS NULL AND NOT c.relrowsecurity
       AND pg_has_role(current_user, c.relowner, 'MEMBER')
       AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE c.oid IN (i.inhrelid, i.inhparent))
       AND NOT EXISTS (
           SELECT 1 FROM pg_depend d
           WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
             AND NOT (
                 (d.classid = 'pg_class'::regclass
                  AND (SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('i', 't'))
              OR (d.classid = 'pg_constraint'::regclass
                  AND (SELECT contype FROM pg_constraint WHERE oid = d.objid) IN ('p', 'u', 'c'))
              OR d.classid IN ('pg_type'::regclass, 'pg_attrdef'::regclass)))
    FROM pg_class c WHERE c.oid = to_regclass(:t)
    """
)
_INDEXES = text(
    """
    SELECT i.relname, pg_get_indexdef(i.oid), k.contype, k.conname
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    LEFT JOIN pg_constraint k ON k.conindid = x.indexrelid AND k.conrelid = x.indrelid
    WHERE x.indrelid = to_regclass(:t)
    ORDER BY x.indisprimary DESC, i.relname
    """
)
_INDEX_HEAD = re.compile(
    r"^CREATE (UNIQUE )?INDEX [a-z_][a-z0-9_]* ON (?:ONLY )?[a-z0-9_.]+ USING "
)
_CONSTRAINT = {"p": "PRIMARY KEY", "u": "UNIQUE"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class _Index:
    name: str
    on_twin: str  # its CREATE INDEX statement for the twin, under a temporary name
    temporary: str
    constraint: tuple[str, str] | None  # (kind, name) when the index backs a constraint


class FirstLoad:
    """Use `plan()`; then `create()`, COPY into `twin`, `build_indexes()`, `swap()`."""

    def __init__(self, conn: Connection, table: str, indexes: list[_Index], twin: str) -> None:
        self.conn = conn
        self.table = table
        self.indexes = indexes
        self.twin = twin

    @classmethod
    def plan(cls, conn: Connection, table: str) -> FirstLoad | None:
        """None when the table must be loaded in place (see the module's docstring)."""
        if not conn.execute(_SWAPPABLE, {"t": _q(table)}).scalar():
            return None
        twin = f"_load_{uuid.uuid4().hex[:12]}"
        indexes = []
        for n, (name, definition, contype, conname) in enumerate(
            conn.execute(_INDEXES, {"t": _q(table)}).all()
        ):
            head = _INDEX_HEAD.match(definition)
            if head is None or (contype is not None and contype not in _CONSTRAINT):
                return None  # an index this module cannot rebuild faithfully: stay in place
            temporary = f"{twin}_i{n}"
            statement = f"CREATE {head.group(1) or ''}INDEX {_q(temporary)} ON {_q(twin)} USING "
            indexes.append(
                _Index(
                    name=name,
                    on_twin=statement + definition[head.end() :],
                    temporary=temporary,
                    constraint=(_CONSTRAINT[contype], conname) if contype else None,
                )
            )
        return cls(conn, table, indexes, twin)

    def create(self) -> None:
        # In the table's own schema; columns, defaults, NOT NULL and check constraints alike.
        self.conn.exec_driver_sql(
            f"CREATE TABLE {_q(self.twin)} (LIKE {_q(self.table)} INCLUDING ALL EXCLUDING INDEXES)"
        )

    def build_indexes(self) -> None:
        """Raises the database's unique violation when a key repeats (nothing is swapped)."""
        for index in self.indexes:
            self.conn.exec_driver_sql(index.on_twin)

    def swap(self) -> None:
        """The twin becomes the table, with the table's index and constraint names.

        Relies on the caller's per-resource lock: no other load wrote to the table meanwhile.
        """
        table = _q(self.table)
        self.conn.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        self.conn.exec_driver_sql(f"DROP TABLE {table}")
        self.conn.exec_driver_sql(f"ALTER TABLE {_q(self.twin)} RENAME TO {table}")
        for index in self.indexes:
            self.conn.exec_driver_sql(
                f"ALTER INDEX {_q(index.temporary)} RENAME TO {_q(index.name)}"
            )
            if index.constraint is not None:
                kind, name = index.constraint
                self.conn.exec_driver_sql(
                    f"ALTER TABLE {table} ADD CONSTRAINT {_q(name)} {kind} USING INDEX "
                    f"{_q(index.name)}"
                )
