"""What every `hub` command group shares. Here, not in `exchange.cli`, so that a group's
commands never import the program that mounts them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from exchange.core.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from exchange.core.runtime import Runtime

console = Console(stderr=True)

# The settings file `hub cluster up` writes into each node's folder (`hub --node-dir DIR`).
NODE_SETTINGS = "settings.toml"


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)  # plain: one unwrapped line per setting
        raise typer.Exit(2) from None


def redact(url: str) -> str:
    """A database URL fit for a terminal: the password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def use_node_dir(node_dir: Path) -> None:
    """Point every setting at a node's folder (one of `hub cluster up`'s, or made alike)."""
    settings_file = node_dir / NODE_SETTINGS
    if not settings_file.is_file():
        typer.echo(f"{node_dir} is not a node folder: {settings_file} is missing", err=True)
        raise typer.Exit(2)
    os.environ["HUB_SETTINGS_FILE"] = str(settings_file.resolve())


def unmigrated(settings: Settings) -> str | None:
    """Why this node's database cannot serve this code (one line), or None when it can.

    Never creates anything: a SQLite file that does not exist is reported, not made (connecting
    would leave an empty `var/hub.db` behind, in whatever folder the command ran)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from exchange.core.migrate import current_revision, head_revision, schema_serves_this_code

    url = make_url(settings.resolved_database_url)
    shown = redact(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        if not Path(url.database).is_file():
            return f"no database at {url.database}: run `hub db upgrade` first"
        # Read-only: a check must not take the write lock from a running node.
        engine = create_engine(f"sqlite:///file:{url.database}?mode=ro&uri=true")
    else:
        engine = create_engine(url)
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        return f"cannot read the database {shown}: {str(cause).splitlines()[0]}"
    finally:
        engine.dispose()
    if not schema_serves_this_code(revision):
        return (
            f"the database {shown} is at revision {revision or 'none'}, this code needs "
            f"{head_revision()}: run `hub db upgrade` first"
        )
    return None


def require_migrated(settings: Settings) -> None:
    problem = unmigrated(settings)
    if problem is not None:
        typer.echo(problem, err=True)
        raise typer.Exit(2)


@contextmanager
def node_runtime() -> Iterator[Runtime]:
    """This node's runtime for one command: settings checked, database migrated, a HubError
    printed as one line (exit status 2), the engine closed whatever happens."""
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime

    settings = settings_or_exit()
    require_migrated(settings)
    rt = build_runtime(settings)
    try:
        yield rt
    except HubError as exc:
        typer.echo(f"{exc.code}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        rt.close()


@contextmanager
def node_session() -> Iterator[tuple[Runtime, Session]]:
    """`node_runtime` with one transaction, committed when the command ends without error."""
    from exchange.core.db import session_scope

    with node_runtime() as rt, session_scope(rt.sessions) as session:
        yield rt, session
