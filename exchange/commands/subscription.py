"""`hub subscription ...`: where resources' batches are delivered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from exchange.core.cli import settings_or_exit

if TYPE_CHECKING:
    pass

subscription_app = typer.Typer(help="Where resources' batches are delivered.", no_args_is_help=True)


@subscription_app.command("add")
def subscription_add(
    resource: Annotated[str, typer.Option(help="Resource code")],
    department: Annotated[str | None, typer.Option(help="Department code on this node")] = None,
    node: Annotated[str | None, typer.Option(help="Neighbouring node code")] = None,
) -> None:
    """Deliver a resource's accepted batches to a department's inbox or a neighbouring node."""
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime
    from exchange.platforms.exchange.relay.routing import subscribe

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            sub = subscribe(session, rt, resource, department=department, node_code=node)
            typer.echo(str(sub.id))
    except HubError as exc:
        typer.echo(f"{exc.code}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        rt.close()
