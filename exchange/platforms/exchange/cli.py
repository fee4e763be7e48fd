"""`hub delivery ...`: an operator's view of the relay outbox, and re-queueing what was refused."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from exchange.core.cli import node_runtime, node_session

delivery_app = typer.Typer(help="Batches relayed to neighbouring nodes.", no_args_is_help=True)


@delivery_app.command("list")
def delivery_list(
    state: Annotated[str, typer.Option(help="pending, rejected or delivered")] = "rejected",
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """Relay deliveries in STATE, each with its attempts and the next hop's last answer."""
    from exchange.platforms.exchange.deliveries import service as deliveries_service

    with node_session() as (_rt, session):
        for d in deliveries_service.deliveries(session, state, limit):
            typer.echo(
                f"{d.id}\t{d.state}\t{d.node_code}\t{d.resource_code}\t{d.batch_id}\t"
                f"attempts={d.attempts}\t{d.last_error or ''}"
            )


@delivery_app.command("retry")
def delivery_retry(
    delivery_ids: Annotated[list[int] | None, typer.Argument(help="Delivery ids")] = None,
    all_rejected: Annotated[
        bool, typer.Option("--all-rejected", help="Every rejected delivery")
    ] = False,
) -> None:
    """Queue rejected deliveries again, once the cause is fixed; the relay sends them at once."""
    from exchange.platforms.exchange.deliveries import service as deliveries_service

    with node_session() as (_rt, session):
        queued = deliveries_service.retry_deliveries(
            session, delivery_ids or None, all_rejected=all_rejected
        )
        for d in queued:
            typer.echo(f"{d.id} queued again for {d.node_code} (batch {d.batch_id})")
        if not queued:
            typer.echo("no rejected deliveries")


batch_app = typer.Typer(help="Batches received by this node.", no_args_is_help=True)


@batch_app.command("list")
def batch_list(
    status: Annotated[
        str | None, typer.Option(help="accepted, quarantined, forwarded or receiving")
    ] = None,
    resource: Annotated[str | None, typer.Option(help="Resource code")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """The newest batches here; a quarantined one with each problem the gate found."""
    from exchange.platforms.exchange.batches import service

    with node_session() as (_rt, session):
        for b in service.batches(session, status=status, resource=resource, limit=limit):
            typer.echo(
                f"{b.id}\t{b.status}\t{b.resource_code}\trows={b.rows}\t{b.origin}\t"
                f"{b.received_at:%Y-%m-%d %H:%M:%S}"
            )
            if b.status == "quarantined":
                _print_problems(b.gate)


def _print_problems(gate: dict[str, Any] | None) -> None:
    for p in (gate or {}).get("findings", []):
        where = ", ".join(f"{k} {p[k]}" for k in ("row", "field", "key") if p.get(k) is not None)
        typer.echo(f"  {p.get('rule')} {where}: {p.get('message')}")


def _batch_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        typer.echo(f"{raw!r} is not a batch id (a UUID)", err=True)
        raise typer.Exit(2) from None


@batch_app.command("show")
def batch_show(
    batch_id: Annotated[str, typer.Argument(help="Batch id")],
    local: Annotated[bool, typer.Option("--local", help="This node's view only")] = False,
) -> None:
    """A batch's status, gate report, lineage (upstream hops, then this node's receipts),
    deliveries and the origin's signature, as JSON; then, unless --local, the same view from
    every node on its way (asked over signed calls, one level at a time) under "trail"."""
    import json

    from exchange.core.db import session_scope
    from exchange.platforms.exchange.batches import service

    wanted = _batch_id(batch_id)
    with node_runtime() as rt:
        with session_scope(rt.sessions) as session:
            here = service.trail_here(session, rt, wanted)
        shown = here.views[0]["batch"]
        if not local:
            shown["trail"] = service.ask_trail(rt, here)[1:]
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))


@batch_app.command("recheck")
def batch_recheck(batch_id: Annotated[str, typer.Argument(help="Batch id")]) -> None:
    """Run the quality gate again on a quarantined batch's stored payload (after a catalogue
    fix): loaded and relayed if it passes now, else kept with the problems found this time."""
    import getpass

    from exchange.platforms.exchange.batches import service

    wanted = _batch_id(batch_id)
    with node_session() as (rt, session):
        b = service.recheck(session, rt, wanted, by=f"operator:{getpass.getuser()}")
        typer.echo(f"{b.id}\t{b.status}\t{b.resource_code}\trows={b.rows}")
        if b.status == "quarantined":
            _print_problems(b.gate)
        accepted = b.status == "accepted"
    if not accepted:  # outside the transaction: a batch kept in quarantine is recorded so
        raise typer.Exit(1)
