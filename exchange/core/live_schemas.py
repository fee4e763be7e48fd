"""`Runtime.schemas` as a live view: the built-in schema files plus every resource published
through the catalogue, in every worker, without a restart.

Each worker holds one immutable snapshot and swaps it whole; the database holds a generation
counter that every publish or withdrawal bumps in its own transaction. A worker compares the
counter with its own at most every `interval_s` (and at once when asked for a code it does not
know, which is what the first batch of a just-published resource does), and reloads only the
descriptors whose version moved. The view is a `dict` so that every signature taking
`dict[str, ResourceSchema]` keeps working; its methods read the snapshot, never the dict's own
storage, so a reader mid-iteration never sees a swap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from exchange.core.resource_schema import ResourceSchema, SchemaFileError, schema_from_descriptor

log = logging.getLogger("hub.catalogue")
MISS_INTERVAL_S = 0.02


class PublishedSource(Protocol):
    """Where the published descriptors are (the catalogue's tables)."""

    def generation(self, session: Session) -> int: ...

    def versions(self, session: Session) -> dict[str, int]: ...

    def withdrawn(self, session: Session) -> frozenset[str]: ...

    def descriptors(
        self, session: Session, wanted: dict[str, int]
    ) -> dict[str, dict[str, Any]]: ...


@dataclass(frozen=True)
class _Snapshot:
    generation: int | None
    versions: dict[str, int]
    schemas: dict[str, ResourceSchema]
    withdrawn: frozenset[str] = frozenset()


class LiveSchemas(dict[str, ResourceSchema]):
    def __init__(
        self,
        builtin: dict[str, ResourceSchema],
        sessions: Callable[[], Session],
        source: PublishedSource,
        interval_s: float = 0.25,
    ) -> None:
        super().__init__(builtin)
        self.builtin = dict(builtin)
        self._sessions = sessions
        self._source = source
        self._interval_s = interval_s
        self._snap = _Snapshot(None, {}, dict(builtin))
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    # -- freshness --------------------------------------------------------------------------
    def _fresh(self) -> dict[str, ResourceSchema]:
        if time.monotonic() - self._checked_at >= self._interval_s:
            self.refresh()
        return self._snap.schemas

    def refresh(self, session: Session | None = None) -> bool:
        """Check the counter (in `session`'s transaction if given, so a publish sees its own
        change before it commits); reload what moved. True when the view changed."""
        if session is None and not self._lock.acquire(blocking=False):
            return False  # another thread is checking right now: use the snapshot meanwhile
        elif session is not None:
            self._lock.acquire()
        try:
            self._checked_at = time.monotonic()
            try:
                if session is not None:
                    return self._reload(session)
                with self._sessions() as own:
                    return self._reload(own)
            except SQLAlchemyError as exc:
                # e.g. a database not migrated yet: the built-in files still serve
                log.debug("catalogue generation not readable: %s", exc)
                return False
        finally:
            self._lock.release()

    def _reload(self, session: Session) -> bool:
        generation = self._source.generation(session)
        if generation == self._snap.generation:
            return False
        versions = self._source.versions(session)
        moved = {c: n for c, n in versions.items() if self._snap.versions.get(c) != n}
        fresh = self._source.descriptors(session, moved)
        schemas = dict(self.builtin)
        for code in versions:
            if code in self.builtin:
                continue
            if code in fresh:
                try:
                    schemas[code] = schema_from_descriptor(
                        fresh[code], Path("catalogue", code), checked=True
                    )
                except SchemaFileError as exc:  # checked when published; never half-serve
                    log.error("published schema %s no longer loads: %s", code, exc)
            elif code in self._snap.schemas:
                schemas[code] = self._snap.schemas[code]
        withdrawn = self._source.withdrawn(session)
        self._snap = _Snapshot(generation, versions, schemas, withdrawn)
        dict.clear(self)
        dict.update(self, schemas)
        return True

    @property
    def generation(self) -> int | None:
        return self._snap.generation

    def is_withdrawn(self, code: str) -> bool:
        """Withdrawn (停用): still known, its data kept, but neither read nor written."""
        self._fresh()
        return code in self._snap.withdrawn

    # -- the mapping, read from the snapshot ---------------------------------------------------
    def __getitem__(self, code: str) -> ResourceSchema:
        found = self._fresh().get(code)
        if found is None and self._miss(code) is None:
            raise KeyError(code)
        return found or self._snap.schemas[code]

    def _miss(self, code: str) -> ResourceSchema | None:
        # An unknown code is checked at once (a just-published resource's first batch may come
        # to another worker), but no more than every MISS_INTERVAL_S: a caller naming codes
        # that do not exist costs the database little.
        if time.monotonic() - self._checked_at >= MISS_INTERVAL_S:
            self.refresh()
        return self._snap.schemas.get(code)

    def get(self, code: str, default: Any = None) -> Any:
        found = self._fresh().get(code)
        if found is None:
            found = self._miss(code)
        return default if found is None else found

    def __contains__(self, code: object) -> bool:
        if code in self._fresh():
            return True
        return isinstance(code, str) and self._miss(code) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._fresh())

    def __len__(self) -> int:
        return len(self._fresh())

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        return self._fresh().keys()

    def values(self) -> ValuesView[ResourceSchema]:  # type: ignore[override]
        return self._fresh().values()

    def items(self) -> ItemsView[str, ResourceSchema]:  # type: ignore[override]
        return self._fresh().items()

    def copy(self) -> dict[str, ResourceSchema]:
        return dict(self._fresh())

    def __repr__(self) -> str:
        return f"LiveSchemas({len(self._snap.schemas)} schemas, generation {self.generation})"


def is_withdrawn(schemas: Mapping[str, ResourceSchema], code: str) -> bool:
    return isinstance(schemas, LiveSchemas) and schemas.is_withdrawn(code)
