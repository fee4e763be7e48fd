"""create_app(): one FastAPI app per node. The engine is built in the lifespan, never at import."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from exchange import __version__
from exchange.api import mount_routers
from exchange.core.body_limit import BodyLimitMiddleware, BodyRule
from exchange.core.errors import install_handlers
from exchange.core.middleware import RequestContextMiddleware
from exchange.core.openapi import install_openapi
from exchange.core.resource_schema import SCHEMAS_DIR
from exchange.core.runtime import Runtime, build_runtime
from exchange.core.security_headers import SecurityHeadersMiddleware
from exchange.core.settings import Settings
from exchange.platforms.exchange.janitor import JanitorWorker
from exchange.platforms.exchange.relay.service import RelayWorker
from exchange.platforms.open_data.hygiene import OpenDataHttp
from exchange.platforms.sharing.audit.sealer import SealingWorker
from exchange.platforms.sharing.env import aclose as close_sharing
from exchange.wiring import wire


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, schemas_dir: Path = SCHEMAS_DIR
) -> FastAPI:
    """Build a node's app. Pass `runtime` to share one already built (tests, `hub demo`)."""
    wire()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or build_runtime(settings, schemas_dir)
        app.state.runtime = rt
        len(rt.schemas)  # the published catalogue loads now, not in a first request
        worker = RelayWorker(rt, settings.relay_interval_s) if settings.relay_interval_s else None
        if worker:
            worker.start()
        janitor = (
            JanitorWorker(rt, settings.janitor_interval_s) if settings.janitor_interval_s else None
        )
        if janitor:
            janitor.start()
        seal_every = settings.sharing.seal_interval_s
        sealer = SealingWorker(rt, seal_every) if seal_every else None
        if sealer:
            sealer.start()
        try:
            yield
        finally:
            await close_sharing(app.state)
            if sealer:
                sealer.stop()
            if worker:
                worker.stop()
            if janitor:
                janitor.stop()
            if runtime is None:
                rt.close()

    app = FastAPI(
        title=f"City data exchange hub · {settings.resolved_node_name} ({settings.node_code})",
        version=__version__,
        description=(
            "A government data exchange node: exchange (`/exchange/v1`), sharing (`/sharing/v1`) "
            "and open data (`/`, `/api/3/action`, `/catalog.jsonld`) platforms."
        ),
        lifespan=lifespan,
    )
    install_handlers(app)
    install_openapi(app)
    app.add_middleware(OpenDataHttp)  # innermost: HEAD/OPTIONS/CORS/ETag/gzip on open data
    app.add_middleware(BodyLimitMiddleware, rules=body_rules(settings))
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware)  # outermost: every answer has its request id
    mount_routers(app)
    return app


def body_rules(settings: Settings) -> list[BodyRule]:
    """The routes that take more than the default 1 MiB body (deploy/ sets the same per path)."""
    attachment = settings.sharing.max_attachment_bytes * 4 // 3 + 64 * 1024  # base64 in JSON
    return [
        BodyRule("PUT", re.compile(r"/exchange/v1/batches/[^/]+"), settings.max_batch_bytes),
        BodyRule("POST", re.compile(r"/sharing/v1/applications"), attachment),
    ]


def app_from_env() -> FastAPI:
    """Factory for multi-worker servers (`hub serve --workers N`, gunicorn): each worker process
    reads the same HUB_* settings and builds its own engine and pools."""
    from exchange.core.logging import configure_logging
    from exchange.core.memory import prefer_system_allocator
    from exchange.core.settings import load_settings

    prefer_system_allocator()
    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return create_app(settings)
