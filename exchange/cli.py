"""`hub`: one program for every node and every operator task. Each command group lives with
what it operates on; this module only mounts them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from exchange.catalogue.cli import catalogue_app
from exchange.commands import run
from exchange.commands.cluster import cluster_app
from exchange.commands.db import db_app
from exchange.commands.node import node_app
from exchange.commands.subscription import subscription_app
from exchange.connector.cli import app as connector_app
from exchange.core.settings import SettingsError
from exchange.directory.cli import department_app
from exchange.pipelines.cli import airflow_app, check_app
from exchange.platforms.exchange.cli import batch_app, delivery_app
from exchange.platforms.open_data.cli import app as portal_app
from exchange.platforms.sharing.cli import audit_app, client_app, user_app

app = typer.Typer(help="City government data exchange hub.", no_args_is_help=True)

# Commands that make or do not touch this node's database; every other one needs it migrated.
NO_NODE_DATABASE = frozenset({"db", "cluster", "connector", "demo", "airflow"})


@app.callback()
def node_options(
    ctx: typer.Context,
    node_dir: Annotated[
        Path | None,
        typer.Option(
            "--node-dir",
            help="Run against the node kept in this folder (e.g. var/cluster/330100000000)",
        ),
    ] = None,
) -> None:
    from exchange.core.cli import require_migrated, settings_or_exit, use_node_dir

    if node_dir is not None:
        use_node_dir(node_dir)
    if ctx.invoked_subcommand not in NO_NODE_DATABASE and "--help" not in sys.argv:
        settings = settings_or_exit()
        if ctx.invoked_subcommand != "node" or "keygen" not in sys.argv:
            require_migrated(settings)


app.add_typer(db_app, name="db")
app.add_typer(node_app, name="node")
app.add_typer(subscription_app, name="subscription")
app.add_typer(cluster_app, name="cluster")
app.add_typer(connector_app, name="connector")
app.add_typer(delivery_app, name="delivery")
app.add_typer(batch_app, name="batch")
app.add_typer(department_app, name="department")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(check_app, name="check")
app.add_typer(airflow_app, name="airflow")
app.add_typer(portal_app, name="portal")
app.add_typer(user_app, name="user")
app.add_typer(client_app, name="client")
app.add_typer(audit_app, name="audit")
app.command()(run.serve)
app.command()(run.demo)
app.command()(run.seed)


def main() -> None:
    from exchange.core.memory import prefer_system_allocator
    from exchange.wiring import wire

    prefer_system_allocator()
    wire()
    try:
        app()
    except SettingsError as exc:  # raised lazily by a command that reads settings itself
        print(exc, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
