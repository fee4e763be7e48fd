"""`hub`: one program for every node and every operator task."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from exchange.core.settings import Settings, SettingsError, load_settings

app = typer.Typer(help="City government data exchange hub.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console(stderr=True)

HostOpt = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOpt = Annotated[int, typer.Option(help="TCP port.")]


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)  # plain: one unwrapped line per setting
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (idempotent)."""
    from exchange.core.db import make_engine
    from exchange.core.migrate import upgrade

    settings = settings_or_exit()
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()
    console.print(f"database at {revision}: {_redact(settings.resolved_database_url)}")


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


@app.command()
def serve(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Run this node (API + portal) from its settings."""
    settings = settings_or_exit()
    _serve(settings, host, port)


@app.command()
def demo(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed only.")] = False,
) -> None:
    """Migrate, seed the demo city of 杭州市 and its districts, and serve it."""
    from exchange.core.db import session_scope
    from exchange.core.migrate import upgrade
    from exchange.core.runtime import build_runtime
    from exchange.demo import seed_demo_city

    settings = settings_or_exit()
    rt = build_runtime(settings)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as bar:
        step = bar.add_task("applying migrations", total=None)
        upgrade(rt.engine)
        bar.update(step, description="loading schemas")
        schemas = rt.schemas
        bar.update(step, description="seeding the demo city")
        with session_scope(rt.sessions) as session:
            counts = seed_demo_city(session, settings, schemas)
    rt.close()
    console.print(
        f"demo city {settings.resolved_node_name} ({settings.node_code}): "
        f"{counts['districts']} districts added, {counts['resources']} catalogue entries updated"
    )
    if not no_serve:
        _serve(settings, host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from exchange.app import create_app
    from exchange.core.logging import configure_logging

    configure_logging(settings.log_level, json_lines=settings.log_json)
    console.print(f"serving {settings.resolved_node_name} at http://{host}:{port}")
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    try:
        app()
    except SettingsError as exc:  # raised lazily by a command that reads settings itself
        print(exc, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
