"""The exchange platform's routes, one router per sub-domain, mounted under /exchange/v1."""

from __future__ import annotations

from fastapi import APIRouter

from exchange.platforms.exchange.batches.router import router as batches_router
from exchange.platforms.exchange.clock.router import router as clock_router
from exchange.platforms.exchange.connectors.router import router as connectors_router
from exchange.platforms.exchange.deliveries.router import router as deliveries_router
from exchange.platforms.exchange.keys.router import router as keys_router
from exchange.platforms.exchange.nodes.router import router as nodes_router
from exchange.platforms.exchange.resources.router import router as resources_router

router = APIRouter()
for sub in (
    nodes_router,
    connectors_router,
    batches_router,
    deliveries_router,
    keys_router,
    clock_router,
    resources_router,
):
    router.include_router(sub)
