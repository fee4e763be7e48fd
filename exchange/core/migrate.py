"""Alembic, driven from code: `hub db upgrade`, the test fixtures and `/readyz` use this."""

from __future__ import annotations

import functools
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


@cache
def heads() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def head_revision() -> str | None:
    found = heads()
    return found[0] if len(found) == 1 else None


@functools.cache
def known_revisions() -> frozenset[str]:
    return frozenset(
        r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    )


def schema_serves_this_code(revision: str | None) -> bool:
    """Whether a database at `revision` has every migration this code needs.

    A revision this code does not know was made by a newer release. Releases only expand the
    schema and contract what the release before them no longer reads (deploy/README.md,
    Upgrades), so old workers keep serving while the migration of the next release has run.
    """
    return revision is not None and (
        revision == head_revision() or revision not in known_revisions()
    )


def current_revision(conn: Connection) -> str | None:
    """The database's revision, read directly (cheap enough for every /readyz probe)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
