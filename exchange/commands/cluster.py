"""`hub cluster ...`: a local multi-node topology."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from exchange.core.cli import console

cluster_app = typer.Typer(help="A local multi-node topology.", no_args_is_help=True)

RootOpt = Annotated[Path, typer.Option(help="Where nodes keep their data")]


@cluster_app.command("up")
def cluster_up(
    districts: Annotated[int, typer.Option(help="How many districts under the city")] = 2,
    base_port: Annotated[int, typer.Option(help="Province port; the others follow")] = 8100,
    root: RootOpt = Path("var/cluster"),
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
    import subprocess
    import time

    from exchange import cluster
    from exchange.core import divisions

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    def started(n: cluster.ClusterNode) -> None:
        console.print(
            f"{n.code} {divisions.name_of(n.code)} ({n.level}) {n.url}\n"
            f"  settings {n.settings_file}\n  log      {n.log_file}"
        )

    signal.signal(signal.SIGTERM, interrupt)
    began = time.monotonic()
    nodes = cluster.plan(districts, base_port, root)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs = cluster.start(nodes, database_url, relay_up, on_start=started)
        cluster.wait_ready(nodes)
        console.print(f"{len(nodes)} nodes ready in {time.monotonic() - began:.1f} s")
        console.print(
            "`hub --node-dir FOLDER ...` runs a command on one node; "
            "`hub cluster restart CODE` restarts one; Ctrl-C stops every node"
        )
        reported: set[str] = set()
        while True:
            for n in nodes:
                # A restarted node runs under a new pid (its pid file): only a node with no
                # live server is reported, once, and the others go on.
                if cluster.running_pid(n) is None and n.code not in reported:
                    reported.add(n.code)
                    console.print(
                        f"[red]{n.code} is not running (see {n.log_file}); "
                        f"`hub cluster restart {n.code}` starts it again[/red]"
                    )
                elif cluster.running_pid(n) is not None:
                    reported.discard(n.code)
            for p in procs:
                p.poll()  # reap exited servers
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop(procs, nodes)
        console.print("cluster stopped")


@cluster_app.command("restart")
def cluster_restart(
    code: Annotated[str, typer.Argument(help="The node's code, e.g. 330100000000")],
    root: RootOpt = Path("var/cluster"),
) -> None:
    """Restart one node of a running cluster (with its settings file as it is now); the others
    keep running."""
    import time

    from exchange import cluster

    try:
        node = cluster.load_node(root, code)
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    began = time.monotonic()
    try:
        cluster.restart(node)
    except TimeoutError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    console.print(f"{code} restarted at {node.url} in {time.monotonic() - began:.1f} s")
