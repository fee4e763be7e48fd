"""`hub cluster ...`: a local multi-node topology."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from exchange.core.cli import console

if TYPE_CHECKING:
    pass

cluster_app = typer.Typer(help="A local multi-node topology.", no_args_is_help=True)


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
