"""`hub connector ...`: what a department's operator runs on its front-end processor."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from exchange import rotation
from exchange.connector import outbox
from exchange.connector.client import HubClient, PushRefused
from exchange.connector.config import KEY_FILE, ConnectorConfig, load_keys, outbox_dir
from exchange.connector.runlog import where
from exchange.connector.spool import SpooledBatch, pending, spool
from exchange.core.signing import KeyPair
from exchange.rotation import Peer

if TYPE_CHECKING:
    from exchange.core.resource_schema import ResourceSchema

app = typer.Typer(help="The front-end connector a department runs.", no_args_is_help=True)
console = Console(stderr=True)

DirOpt = Annotated[Path, typer.Option("--dir", help="The connector's folder (keys, outbox).")]


@app.command()
def register(
    hub: Annotated[str, typer.Option(help="URL of the hub node, e.g. http://127.0.0.1:8000")],
    department: Annotated[str, typer.Option(help="Department code at that node, e.g. GA")],
    name: Annotated[str, typer.Option(help="A name operators will recognise")] = "前置机",
    folder: DirOpt = Path("connector"),
) -> None:
    """Make a key pair here and ask the hub to register this connector."""
    key_path = folder / KEY_FILE
    if key_path.exists():
        console.print(f"[red]{key_path} exists: this folder is already a connector[/red]")
        raise typer.Exit(1)
    keys = KeyPair.generate()
    resp = httpx.post(
        f"{hub.rstrip('/')}/exchange/v1/connectors",
        json={"department": department, "name": name, "public_key": keys.public_b64},
        timeout=30,
    )
    if resp.status_code != 201:
        console.print(f"[red]registration refused: {resp.status_code} {resp.text}[/red]")
        raise typer.Exit(1)
    body = resp.json()
    node = httpx.get(f"{hub.rstrip('/')}/exchange/v1/node", timeout=30).json()["node"]["code"]
    keys.save(key_path)  # the private key stays in this folder only
    ConnectorConfig(hub, body["id"], department, node, name).save(folder)
    typer.echo(body["id"])
    console.print(
        f"registered as {body['id']} ({body['state']}); an operator at the hub approves it with "
        f"`hub connector approve {body['id']}`"
    )


def _set_state(connector_id: str, state: str) -> None:
    from exchange.core.cli import node_session
    from exchange.platforms.exchange.connectors import service as connectors_service

    try:
        wanted = uuid.UUID(connector_id)
    except ValueError:
        typer.echo(f"{connector_id!r} is not a connector id (a UUID)", err=True)
        raise typer.Exit(2) from None
    with node_session() as (_rt, session):
        c = connectors_service.set_connector_state(session, wanted, state)
        typer.echo(f"{c.id} {c.state}")


@app.command("list")
def list_connectors(
    state: Annotated[
        str | None, typer.Option(help="registered, active or suspended (default: all)")
    ] = None,
) -> None:
    """(At the hub) the registered connectors, with their department and last contact."""
    from exchange.core.cli import node_session
    from exchange.platforms.exchange.connectors import repository as connectors_repo

    with node_session() as (_rt, session):
        for c in connectors_repo.list_connectors(session):
            if state is not None and c.state != state:
                continue
            seen = f"{c.last_seen_at:%Y-%m-%d %H:%M}" if c.last_seen_at else "never"
            pushed = f"{c.last_push_at:%Y-%m-%d %H:%M}" if c.last_push_at else "never"
            typer.echo(
                f"{c.id}	{c.state}	{c.department.code}	{c.name}	"
                f"seen={seen}	pushed={pushed}"
            )


@app.command()
def approve(connector_id: str) -> None:
    """(At the hub) activate a registered connector."""
    _set_state(connector_id, "active")


@app.command()
def suspend(connector_id: str) -> None:
    """(At the hub) suspend a connector: its calls get 403 at once."""
    _set_state(connector_id, "suspended")


DEFAULT_GRACE_S = 3600


def _peer(cfg: ConnectorConfig) -> Peer:
    return Peer(cfg.hub_url, f"/exchange/v1/connectors/{cfg.connector_id}/keys")


@app.command("rotate-key")
def rotate_key(
    folder: DirOpt = Path("connector"),
    grace: Annotated[
        float, typer.Option(help="Seconds the old key stays valid after the switch", min=0)
    ] = DEFAULT_GRACE_S,
) -> None:
    """Make a new key pair, register it with the hub (signed with the old key), switch to it,
    and have the hub retire the old key after GRACE seconds. Running connectors switch too."""
    cfg = ConnectorConfig.load(folder)
    try:
        done = rotation.rotate(folder / KEY_FILE, cfg.connector_id, [_peer(cfg)], grace_s=grace)
    except rotation.RotationRefused as exc:
        console.print(f"[red]{exc}; still signing with the old key[/red]")
        raise typer.Exit(1) from None
    typer.echo(done.new_key_id)
    console.print(
        f"now signing with key {done.new_key_id}; {done.old_key_id} is retired at "
        f"{done.retire_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    for missed in done.not_retired_at:
        console.print(
            f"[yellow]{missed}: retire it later with `hub connector retire-key "
            f"{done.old_key_id}`[/yellow]"
        )


@app.command("retire-key")
def retire_key(
    key_id: Annotated[str, typer.Argument(help="Fingerprint of the key to retire")],
    folder: DirOpt = Path("connector"),
    after: Annotated[float, typer.Option(help="Retire after this many seconds", min=0)] = 0,
) -> None:
    """Retire one of this connector's keys at the hub (signed with the current key)."""
    cfg = ConnectorConfig.load(folder)
    done = rotation.retire(folder / KEY_FILE, cfg.connector_id, [_peer(cfg)], key_id, after_s=after)
    for missed in done.not_retired_at:
        console.print(f"[red]{missed}[/red]")
    if done.not_retired_at:
        raise typer.Exit(1)
    typer.echo(f"{key_id} retired at {done.retire_at:%Y-%m-%d %H:%M:%S} UTC")


@app.command()
def push(
    resource: Annotated[str, typer.Option(help="Resource code, e.g. population")],
    files: Annotated[list[Path], typer.Argument(help="CSV, Parquet or JSON Lines files")],
    folder: DirOpt = Path("connector"),
    destination: Annotated[
        str | None, typer.Option(help="Node code to address (relayed level by level)")
    ] = None,
    batch_rows: Annotated[int, typer.Option(help="Rows per Arrow record batch")] = 65_536,
) -> None:
    """Check each file against the resource's schema and push it as one batch."""
    from exchange.connector.reader import ReadError, first_row_number, read_batches

    cfg = ConnectorConfig.load(folder)
    schema, version = _schema_in_force(cfg, folder, resource)
    batches: list[SpooledBatch] = []
    for path in files:
        try:
            with console.status(f"checking {path}"):
                batches.append(
                    spool(
                        read_batches(path, schema, batch_rows=batch_rows),
                        schema.arrow_schema(),
                        outbox_dir(folder),
                        resource,
                        destination=destination,
                        source=str(path),
                        schema_version=version,
                        first_row=first_row_number(path),
                    )
                )
        except ReadError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    failures = _send_all(cfg, folder, batches)
    raise typer.Exit(1 if failures else 0)


def _schema_in_force(
    cfg: ConnectorConfig, folder: Path, resource: str
) -> tuple[ResourceSchema, int | None]:
    """The resource's schema as the node holds it now (resources catalogued at run time are
    known only there), with its version; offline, the built-in file (version unsaid)."""
    from exchange.core.resource_schema import (
        SCHEMAS_DIR,
        SchemaFileError,
        load_all,
        schema_from_descriptor,
    )

    client = HubClient(cfg.hub_url, cfg.connector_id, load_keys(folder))
    try:
        found = client.schema_in_force(resource)
    except PushRefused as exc:
        console.print(f"[red]{resource}: {exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        client.close()
    if found is not None:
        version, descriptor = found
        try:
            return schema_from_descriptor(descriptor, Path(f"{resource}.json")), version
        except SchemaFileError as exc:
            console.print(f"[red]{resource}: the node's schema does not load here: {exc}[/red]")
            raise typer.Exit(2) from None
    schemas = load_all(SCHEMAS_DIR)
    if resource not in schemas:
        console.print(f"[red]unknown resource {resource!r}; known: {', '.join(schemas)}[/red]")
        raise typer.Exit(2)
    return schemas[resource], None


SEND_ATTEMPTS = 5


def _send_all(cfg: ConnectorConfig, folder: Path, batches: list[SpooledBatch]) -> int:
    """Send as `hub connector run` does (`outbox.send`), retrying an unavailable hub a while."""
    client = HubClient(cfg.hub_url, cfg.connector_id, load_keys(folder))
    origin = f"{cfg.node_code}/{cfg.department}/{cfg.connector_id}"
    outcomes: list[outbox.Outcome] = []
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
        ) as bar:

            def progress(batch: SpooledBatch) -> Callable[[int], None]:
                task = bar.add_task(f"{Path(batch.source or batch.path).name}", total=batch.size)
                return lambda n: bar.advance(task, n)

            outbox.send(
                client,
                folder,
                batches,
                origin=origin,
                on_outcome=outcomes.append,
                progress=progress,
                attempts=SEND_ATTEMPTS,
            )
    finally:
        client.close()
    for outcome in outcomes:
        _report(outcome)
    waiting = [b for b in batches if b.batch_id not in {o.batch.batch_id for o in outcomes}]
    for batch in waiting:
        console.print(f"[yellow]{batch.batch_id} kept in the outbox: not sent yet[/yellow]")
    return len(waiting) + sum(not isinstance(o, outbox.Accepted) for o in outcomes)


def _report(outcome: outbox.Outcome) -> None:
    batch = outcome.batch
    if isinstance(outcome, outbox.Refused):
        console.print(
            f"[red]{batch.batch_id} refused: {outcome.status} {outcome.body.get('error', '')}: "
            f"{outcome.body.get('detail', '')}[/red]"
        )
        for p in outcome.body.get("problems", [])[:10]:
            console.print(f"  [red]{p.get('rule')}[/red] {where(p)}: {p.get('message')}")
    elif isinstance(outcome, outbox.Deferred):
        console.print(f"[yellow]{batch.batch_id} kept in the outbox: {outcome.reason}[/yellow]")
    elif outcome.receipt.get("replayed"):
        typer.echo(f"{batch.batch_id} {outbox.replay_note(outcome.receipt)}")
    else:
        receipt = outcome.receipt
        load = receipt.get("load") or {}
        typer.echo(
            f"{batch.batch_id} {receipt.get('status')} rows={receipt.get('rows')} "
            f"inserted={load.get('inserted', 0)} updated={load.get('updated', 0)} "
            f"deleted={load.get('deleted', 0)}"
        )


@app.command()
def flush(folder: DirOpt = Path("connector")) -> None:
    """Send every batch still waiting in the outbox (after an outage)."""
    cfg = ConnectorConfig.load(folder)
    raise typer.Exit(1 if _send_all(cfg, folder, pending(outbox_dir(folder))) else 0)


@app.command()
def run(
    folder: DirOpt = Path("connector"),
    watch: Annotated[
        Path | None, typer.Option(help="Drop folder: files in WATCH/<resource>/ are pushed")
    ] = None,
    source_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL of a source database to poll")
    ] = None,
    source_table: Annotated[
        str | None, typer.Option(help="Table (or schema.table) to poll")
    ] = None,
    watermark: Annotated[
        str | None, typer.Option(help="Increasing column of the source table, e.g. updated_at")
    ] = None,
    resource: Annotated[
        str | None, typer.Option(help="Resource code the source table's rows belong to")
    ] = None,
    inbox_dir: Annotated[
        Path | None, typer.Option(help="Write deliveries to INBOX_DIR/<resource>/<batch>.arrow")
    ] = None,
    target_url: Annotated[
        str | None, typer.Option(help="Write deliveries into this database (table per resource)")
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between passes", min=0)] = 30.0,
    once: Annotated[bool, typer.Option(help="One pass of each activity, then exit")] = False,
    settle: Annotated[
        float, typer.Option(help="With --once: seconds between the two looks at a file", min=0)
    ] = 1.0,
) -> None:
    """Run the connector: push dropped files and source rows, receive deliveries, until stopped.

    Every pass also lists the inbox, which the hub records as this connector's heartbeat.
    With --once the exit code is 1 if anything was refused, failed or had to wait.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from exchange.connector.files import FolderBusy
    from exchange.connector.runner import Runner, RunOptions
    from exchange.connector.source import SourceSpec

    source_opts = (source_url, source_table, watermark, resource)
    if any(source_opts) and not all(source_opts):
        console.print(
            "[red]--source-url, --source-table, --watermark and --resource go together[/red]"
        )
        raise typer.Exit(2)
    if inbox_dir is not None and target_url is not None:
        console.print("[red]deliveries go to --inbox-dir or to --target-url, not both[/red]")
        raise typer.Exit(2)
    if watch is not None and not watch.is_dir():
        console.print(f"[red]--watch {watch}: no such folder[/red]")
        raise typer.Exit(2)
    spec = None
    if source_url and source_table and watermark and resource:
        spec = SourceSpec(source_url, source_table, watermark, resource)
    options = RunOptions(
        watch=watch,
        source=spec,
        inbox_dir=inbox_dir,
        target_url=target_url,
        interval_s=interval,
        once=once,
        settle_s=settle,
    )
    try:
        runner = Runner(folder, options, Console(stderr=True, soft_wrap=True, highlight=False))
    except (FileNotFoundError, ValueError, FolderBusy, SQLAlchemyError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    try:
        code = runner.run()
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    raise typer.Exit(code)
