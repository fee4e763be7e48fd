"""`hub serve`, `hub demo`, `hub seed`: running and filling a node."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from exchange.core.cli import console, settings_or_exit
from exchange.core.settings import Settings

if TYPE_CHECKING:
    pass

HostOpt = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOpt = Annotated[int, typer.Option(help="TCP port.")]


def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes sharing the port")] = 1,
) -> None:
    """Run this node (API + portal) from its settings."""
    settings = settings_or_exit()
    _serve(settings, host, port, workers)  # the directory is synced by `hub node init`


# Rows of synthetic data per departmental demo resource: enough to page through and chart,
# small enough that `make run` is ready in well under a minute.
DEMO_ROWS_PER_RESOURCE = 200


def demo(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed only.")] = False,
) -> None:
    """Migrate, seed the demo city of 杭州市 and its districts, and serve it."""
    from exchange import seed as seeding
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime
    from exchange.demo import seed_demo_catalogue, seed_demo_city
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
        bar.update(step, description="cataloguing the departments' resources")
        city = seed_demo_catalogue(
            rt,
            DEMO_ROWS_PER_RESOURCE,
            on_resource=lambda r: bar.update(step, description=f"pushing {r}"),
        )
    rt.close()
    loaded = sum(r["rows"] or 0 for r in results if r["status"] == "accepted")
    console.print(
        f"demo city {settings.resolved_node_name} ({settings.node_code}): "
        f"{counts['districts']} districts, {counts['departments']} departments, "
        f"{counts['resources']} catalogue entries updated, "
        f"{loaded} registry rows loaded, "
        f"{city['catalogued']} departmental resources catalogued ({city['accepted']} loaded)"
    )
    if not no_serve:
        _serve(settings, host, port)


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


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import gc
    import os

    import uvicorn

    from exchange.app import create_app
    from exchange.core.logging import configure_logging
    from exchange.platforms.sharing.audit import sealer

    configure_logging(settings.log_level, json_lines=settings.log_json)
    if "base_url" not in settings.model_fields_set:
        # Unset, the public address is where we serve (links and metadata never take the
        # Host header); workers read it from the environment.
        settings = settings.model_copy(update={"base_url": f"http://{host}:{port}"})
        os.environ["HUB_BASE_URL"] = settings.base_url
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
