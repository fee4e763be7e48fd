"""What every `hub` command group shares. Here, not in `exchange.cli`, so that a group's
commands never import the program that mounts them."""

from __future__ import annotations

import typer
from rich.console import Console

from exchange.core.settings import Settings, SettingsError, load_settings

console = Console(stderr=True)


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
