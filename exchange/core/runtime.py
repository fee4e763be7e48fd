"""The process-wide objects a node builds once at start: engine, sessions, store, schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import make_engine, make_sessionmaker, read_only_sessions
from exchange.core.live_schemas import LiveSchemas
from exchange.core.replica import ReplicaRouter
from exchange.core.resource_schema import SCHEMAS_DIR, ResourceSchema, load_all
from exchange.core.settings import Environment, Settings
from exchange.core.signing import KeyFile, KeyPair, set_clock_offset
from exchange.core.store import PayloadStore


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: PayloadStore
    schemas_dir: Path = field(default=SCHEMAS_DIR)
    replica_engine: Engine | None = None

    @cached_property
    def reads(self) -> ReplicaRouter:
        """Where read-only queries go: the replica while it is fresh, else the primary."""
        return ReplicaRouter(
            read_only_sessions(self.sessions),
            self.engine,
            self.replica_engine,
            self.settings.replica_max_lag_s,
        )

    @cached_property
    def node_key_file(self) -> KeyFile:
        """This node's signing key file; made on first use outside production."""
        path = self.settings.resolved_node_key_file
        production = self.settings.env is Environment.production
        if production and not path.exists():
            raise FileNotFoundError(f"node key {path} missing (HUB_NODE_KEY_FILE)")
        return KeyFile(path, create=not production)

    @property
    def node_keys(self) -> KeyPair:
        """The key this node signs with now (a key rotation replaces the file; every worker
        signs with the new key from its next signature on)."""
        return self.node_key_file.current()

    @cached_property
    def schemas(self) -> dict[str, ResourceSchema]:
        """The built-in files plus what the catalogue published: live (`LiveSchemas`)."""
        # The catalogue's tables answer; imported here, as core is imported by everything
        from exchange.catalogue.live import SOURCE

        # read-only sessions: on SQLite a check must not wait for the write lock its own
        # thread may hold (a command that writes while it reads the schemas)
        return LiveSchemas(load_all(self.schemas_dir), read_only_sessions(self.sessions), SOURCE)

    def close(self) -> None:
        self.engine.dispose()
        if self.replica_engine is not None:
            self.replica_engine.dispose()


def build_runtime(settings: Settings, schemas_dir: Path = SCHEMAS_DIR) -> Runtime:
    set_clock_offset(settings.clock_offset_s)
    engine = make_engine(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        connect_timeout_s=settings.db_connect_timeout_s,
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        store=PayloadStore(settings.resolved_store_url, **settings.store_options),
        schemas_dir=schemas_dir,
        replica_engine=make_engine(
            settings.read_replica_url,
            pool_size=settings.db_pool_size,
            connect_timeout_s=settings.db_connect_timeout_s,
        )
        if settings.read_replica_url
        else None,
    )
