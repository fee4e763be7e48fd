"""What every `hub` command group shares. Here, not in `exchange.cli`, so that a platform's
commands never import the program that mounts them."""

from __future__ import annotations

import typer

from exchange.core.settings import Settings, SettingsError, load_settings


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)  # plain: one unwrapped line per setting
        raise typer.Exit(2) from None
