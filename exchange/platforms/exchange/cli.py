"""`hub delivery ...`: an operator's view of the relay outbox, and re-queueing what was refused."""

from __future__ import annotations

from typing import Annotated

import typer

delivery_app = typer.Typer(help="Batches relayed to neighbouring nodes.", no_args_is_help=True)


@delivery_app.command("list")
def delivery_list(
    state: Annotated[str, typer.Option(help="pending, rejected or delivered")] = "rejected",
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """Relay deliveries in STATE, each with its attempts and the next hop's last answer."""
    from exchange.cli import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime
    from exchange.platforms.exchange import service

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            for d in service.deliveries(session, state, limit):
                typer.echo(
                    f"{d.id}\t{d.state}\t{d.node_code}\t{d.resource_code}\t{d.batch_id}\t"
                    f"attempts={d.attempts}\t{d.last_error or ''}"
                )
    except HubError as exc:
        typer.echo(f"{exc.code}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        rt.close()


@delivery_app.command("retry")
def delivery_retry(
    delivery_ids: Annotated[list[int] | None, typer.Argument(help="Delivery ids")] = None,
    all_rejected: Annotated[
        bool, typer.Option("--all-rejected", help="Every rejected delivery")
    ] = False,
) -> None:
    """Queue rejected deliveries again, once the cause is fixed; the relay sends them at once."""
    from exchange.cli import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime
    from exchange.platforms.exchange import service

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            queued = service.retry_deliveries(
                session, delivery_ids or None, all_rejected=all_rejected
            )
            for d in queued:
                typer.echo(f"{d.id} queued again for {d.node_code} (batch {d.batch_id})")
            if not queued:
                typer.echo("no rejected deliveries")
    except HubError as exc:
        typer.echo(f"{exc.code}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        rt.close()
