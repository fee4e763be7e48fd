"""`hub`: one program for every node and every operator task."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from exchange.connector.cli import app as connector_app
from exchange.core.commands import settings_or_exit
from exchange.core.settings import Settings, SettingsError
from exchange.directory.cli import department_app
from exchange.pipelines.cli import airflow_app, check_app
from exchange.platforms.open_data.cli import app as portal_app
from exchange.platforms.sharing.cli import audit_app, client_app, user_app

if TYPE_CHECKING:
    from exchange.core.signing import KeyPair
    from exchange.rotation import Peer

app = typer.Typer(help="City government data exchange hub.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
node_app = typer.Typer(help="This node's directory entry.", no_args_is_help=True)
app.add_typer(node_app, name="node")
subscription_app = typer.Typer(help="Where resources' batches are delivered.", no_args_is_help=True)
app.add_typer(subscription_app, name="subscription")
cluster_app = typer.Typer(help="A local multi-node topology.", no_args_is_help=True)
app.add_typer(cluster_app, name="cluster")
app.add_typer(connector_app, name="connector")
app.add_typer(check_app, name="check")
app.add_typer(airflow_app, name="airflow")
app.add_typer(portal_app, name="portal")
app.add_typer(user_app, name="user")
app.add_typer(client_app, name="client")
app.add_typer(audit_app, name="audit")
app.add_typer(department_app, name="department")
console = Console(stderr=True)

HostOpt = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOpt = Annotated[int, typer.Option(help="TCP port.")]


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
def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes sharing the port")] = 1,
) -> None:
    """Run this node (API + portal) from its settings."""
    settings = settings_or_exit()
    _serve(settings, host, port, workers)  # the directory is synced by `hub node init`


@app.command()
def demo(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed only.")] = False,
) -> None:
    """Migrate, seed the demo city of 杭州市 and its districts, and serve it."""
    from exchange import seed as seeding
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime
    from exchange.demo import seed_demo_city
    from exchange.directory.service import record_own_key
    from exchange.lifecycle import prepare_database

    settings = settings_or_exit()
    rt = build_runtime(settings)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as bar:
        step = bar.add_task("applying migrations", total=None)
        prepare_database(rt.engine, rt.schemas)
        bar.update(step, description="recording the demo city")
        with session_scope(rt.sessions) as session:
            counts = seed_demo_city(session, settings, rt.schemas)
            record_own_key(session, settings.node_code, rt.node_keys.public_b64)
        seeding.load_divisions(rt)
        bar.update(step, description="pushing synthetic registry data through the intake")
        results = seeding.seed(
            rt, 1, on_table=lambda r, n: bar.update(step, description=f"loaded {r} ({n} rows)")
        )
    rt.close()
    loaded = sum(r["rows"] or 0 for r in results if r["status"] == "accepted")
    console.print(
        f"demo city {settings.resolved_node_name} ({settings.node_code}): "
        f"{counts['districts']} districts, {counts['resources']} catalogue entries updated, "
        f"{loaded} registry rows loaded"
    )
    if not no_serve:
        _serve(settings, host, port)


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
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime
    from exchange.directory.service import record_own_key, sync_catalog, sync_topology
    from exchange.platforms.open_data.portal.service import refresh_catalog
    from exchange.seed import load_divisions

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            me = sync_topology(session, rt.settings)
            record_own_key(session, me.code, rt.node_keys.public_b64)
            changed = sync_catalog(session, me, rt.schemas)
            refresh_catalog(session, rt.schemas)
            code, name = me.code, me.name
        loaded = load_divisions(rt)
        typer.echo(
            f"{code} {name}: {changed} catalogue entries updated, "
            f"geo_division {loaded['status']} ({loaded['rows']} divisions)"
        )
    finally:
        rt.close()


@app.command()
def seed(
    scale: Annotated[int, typer.Option(help="1 = the demo city; N multiplies the rows")] = 1,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed")] = 1,
) -> None:
    """Fill every registry with synthetic, valid, consistent data through the intake path."""
    from exchange import seed as seeding
    from exchange.core.runtime import build_runtime

    rt = build_runtime(settings_or_exit())
    try:
        with Progress(console=console) as bar:
            task = bar.add_task("seeding registries", total=len(seeding.LOAD_ORDER))
            results = seeding.seed(
                rt, scale, seed_value=seed_value, on_table=lambda r, n: bar.advance(task)
            )
        for r in results:
            typer.echo(f"{r['resource']:16} {r['status']:12} rows={r['rows']}")
    finally:
        rt.close()


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


@cluster_app.command("up")
def cluster_up(
    districts: Annotated[int, typer.Option(help="How many districts under the city")] = 2,
    base_port: Annotated[int, typer.Option(help="Province port; the others follow")] = 8100,
    root: Annotated[Path, typer.Option(help="Where nodes keep their data")] = Path("var/cluster"),
    database_url: Annotated[
        str | None,
        typer.Option(help="URL template per node, e.g. postgresql+psycopg://u@h/hub_{code}"),
    ] = None,
    relay_up: Annotated[
        list[str], typer.Option(help="Resources each node relays to its parent")
    ] = ["macro_indicator"],  # noqa: B006
) -> None:
    """Start 浙江省, 杭州市 and N districts as separate processes; Ctrl-C stops them all."""
    import signal
    import time

    from rich.table import Table

    from exchange import cluster
    from exchange.core import divisions

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    nodes = cluster.plan(districts, base_port, root)
    procs = cluster.start(nodes, database_url, relay_up)
    try:
        cluster.wait_ready(nodes)
        table = Table("node", "name", "level", "url")
        for n in nodes:
            table.add_row(n.code, divisions.name_of(n.code), n.level, n.url)
        console.print(table)
        console.print("Ctrl-C stops every node")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        console.print("[red]a node exited; stopping the cluster[/red]")
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop(procs)
        console.print("cluster stopped")


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import gc
    import os

    import uvicorn

    from exchange.app import create_app
    from exchange.core.logging import configure_logging
    from exchange.platforms.sharing.audit import sealer

    configure_logging(settings.log_level, json_lines=settings.log_json)
    console.print(f"serving {settings.resolved_node_name} at http://{host}:{port}")
    # One audit sealer per node, in its own process; the API workers run none.
    seal_every = settings.sharing.seal_interval_s
    sealing = sealer.start_process(seal_every) if seal_every else None
    os.environ.update(sealer.NO_SEALER_ENV)
    no_sealer = settings.sharing.model_copy(update={"seal_interval_s": 0})
    settings = settings.model_copy(update={"sharing": no_sealer})
    try:
        if workers > 1:
            _serve_workers(settings, host, port, workers)
            return
        app = create_app(settings)
        # A server holds many long-lived objects (modules, models, schemas): keep the collector
        # off them and collect the young generation less often. Halves the sharing API's p99.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        uvicorn.run(app, host=host, port=port, log_config=None, server_header=False)
    finally:
        if sealing:
            sealer.stop_process(sealing)


def _serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """Each worker builds its own app from the same environment (no shared in-process state);
    Prometheus samples go through files so that any worker's /metrics covers all of them."""
    import os
    import shutil

    import uvicorn

    metrics_dir = Path(
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(settings.var_dir / "metrics"))
    )
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    uvicorn.run(
        "exchange.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        server_header=False,  # no "server: uvicorn": what runs here is nobody else's business
        timeout_graceful_shutdown=30,
    )


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


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
