"""`hub node ...`: this node's directory entry and its keys."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from exchange.core.cli import console, settings_or_exit
from exchange.core.settings import Settings

if TYPE_CHECKING:
    from exchange.core.signing import KeyPair
    from exchange.rotation import Peer

node_app = typer.Typer(help="This node's directory entry.", no_args_is_help=True)


@node_app.command("keygen")
def node_keygen(
    out: Annotated[Path, typer.Option(help="Where to write the private key (PEM, mode 600)")],
) -> None:
    """Make this node's Ed25519 key pair; prints the public key to give to its neighbours."""
    from exchange.core.signing import KeyPair

    if out.exists():
        typer.echo(f"{out} exists; refusing to overwrite a node key", err=True)
        raise typer.Exit(1)
    pair = KeyPair.generate()
    pair.save(out)
    typer.echo(pair.public_b64)


def _node_peers(settings: Settings) -> list[Peer]:
    from exchange.rotation import Peer

    neighbours = ([settings.parent] if settings.parent else []) + list(settings.children)
    path = f"/exchange/v1/nodes/{settings.node_code}/keys"
    return [Peer(n.url, path) for n in neighbours]


@node_app.command("rotate-key")
def node_rotate_key(
    grace: Annotated[
        float,
        typer.Option(help="Seconds the old key stays valid after the switch (>= token TTL)", min=0),
    ] = 3600,
) -> None:
    """Make a new node key, register it with the parent and children (signed with the old key),
    switch every worker to it, and retire the old key everywhere after GRACE seconds."""
    from exchange import rotation
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime
    from exchange.directory import keys

    settings = settings_or_exit()
    rt = build_runtime(settings)
    own = keys.KeyOwner(keys.NODE, settings.node_code)

    def record(old: KeyPair, new: KeyPair) -> None:
        with session_scope(rt.sessions) as session:
            keys.ensure(session, own, old.public_b64)
            keys.add(session, own, new.public_b64)

    def retire_here(key_id: str, after_s: float) -> None:
        with session_scope(rt.sessions) as session:
            keys.retire(session, own, key_id, after_s=after_s)

    try:
        done = rotation.rotate(
            settings.resolved_node_key_file,
            settings.node_code,
            _node_peers(settings),
            grace_s=grace,
            record_locally=record,
            retire_locally=retire_here,
        )
    except rotation.RotationRefused as exc:
        console.print(f"[red]{exc}; still signing with the old key[/red]")
        raise typer.Exit(1) from None
    finally:
        rt.close()
    typer.echo(done.new_key_id)
    console.print(
        f"node {settings.node_code} signs with key {done.new_key_id}; {done.old_key_id} is "
        f"retired at {done.retire_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    for missed in done.not_retired_at:
        console.print(
            f"[yellow]{missed}: retire it there later with `hub node retire-key "
            f"{done.old_key_id}`[/yellow]"
        )


@node_app.command("retire-key")
def node_retire_key(
    key_id: Annotated[str, typer.Argument(help="Fingerprint of the key to retire")],
    after: Annotated[float, typer.Option(help="Retire after this many seconds", min=0)] = 0,
) -> None:
    """Retire one of this node's keys here and at its parent and children."""
    from exchange import rotation
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime
    from exchange.directory import keys

    settings = settings_or_exit()
    rt = build_runtime(settings)
    try:
        with session_scope(rt.sessions) as session:
            keys.retire(
                session, keys.KeyOwner(keys.NODE, settings.node_code), key_id, after_s=after
            )
    except HubError as exc:
        typer.echo(f"{exc.code}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        rt.close()
    done = rotation.retire(
        settings.resolved_node_key_file,
        settings.node_code,
        _node_peers(settings),
        key_id,
        after_s=after,
    )
    for missed in done.not_retired_at:
        console.print(f"[red]{missed}[/red]")
    if done.not_retired_at:
        raise typer.Exit(1)
    typer.echo(f"{key_id} retired at {done.retire_at:%Y-%m-%d %H:%M:%S} UTC")


@node_app.command("init")
def node_init() -> None:
    """Record this node, its neighbours and the catalogue from settings and schemas/."""
    from exchange.core.cli import node_runtime
    from exchange.lifecycle import init_node

    with node_runtime() as rt:
        done = init_node(rt)
        typer.echo(
            f"{done.code} {done.name}: {done.catalogue_changes} catalogue entries updated, "
            f"geo_division {done.divisions['status']} ({done.divisions['rows']} divisions)"
        )
