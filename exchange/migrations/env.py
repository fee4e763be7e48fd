"""Alembic environment; the engine is handed in by exchange.core.migrate, never read from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import exchange.models  # noqa: F401  (registers every table on Base.metadata)
from exchange.core.db import Base

engine: Engine | None = context.config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations through `hub db upgrade` (exchange.core.migrate)")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
