"""Mounts each platform's router under the prefixes of the external contract (DESIGN.md §4)."""

from __future__ import annotations

from fastapi import FastAPI

from exchange.console.router import router as staff_console_router
from exchange.core import health
from exchange.pipelines.console import router as ops_console_router
from exchange.platforms.exchange.router import router as exchange_router
from exchange.platforms.open_data.router import router as open_data_router
from exchange.platforms.sharing.console.directory import router as console_directory_router
from exchange.platforms.sharing.console.disputes import router as console_disputes_router
from exchange.platforms.sharing.console.inbox import router as console_inbox_router
from exchange.platforms.sharing.console.router import ConsoleRefusal, refusal_handler
from exchange.platforms.sharing.console.router import router as console_router
from exchange.platforms.sharing.router import router as sharing_router


def mount_routers(app: FastAPI) -> None:
    app.include_router(health.router)
    # Routes are matched in order: the sharing API's keyed lookup is the hot path, so it
    # goes first (the prefixes do not overlap, so the order changes nothing else).
    app.include_router(sharing_router, prefix="/sharing/v1")
    app.include_router(exchange_router, prefix="/exchange/v1")
    app.include_router(console_router)
    app.add_exception_handler(ConsoleRefusal, refusal_handler)
    app.include_router(open_data_router)
    app.include_router(ops_console_router)
    app.include_router(console_inbox_router)
    app.include_router(staff_console_router)
    app.include_router(console_directory_router)
    app.include_router(console_disputes_router)
