"""`hub db ...`: the database schema (Alembic migrations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from exchange.core.cli import console, redact, settings_or_exit

if TYPE_CHECKING:
    pass

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (idempotent)."""
    from exchange.core.migrate import upgrade
    from exchange.core.runtime import build_runtime
    from exchange.lifecycle import prepare_database

    settings = settings_or_exit()
    rt = build_runtime(settings)
    try:
        if revision == "head":
            changes = prepare_database(rt.engine, rt.schemas)
            for change in changes:
                console.print(f"  {change}")
        else:
            upgrade(rt.engine, revision)
    finally:
        rt.close()
    console.print(f"database at {revision}: {redact(settings.resolved_database_url)}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from exchange.core.db import make_engine
    from exchange.core.migrate import downgrade

    engine = make_engine(settings_or_exit().resolved_database_url)
    try:
        downgrade(engine, revision)
    finally:
        engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Print the database's current revision and the code's head."""
    from exchange.core.db import make_engine
    from exchange.core.migrate import current_revision, head_revision

    engine = make_engine(settings_or_exit().resolved_database_url)
    with engine.connect() as conn:
        typer.echo(f"current: {current_revision(conn)}  head: {head_revision()}")
    engine.dispose()
