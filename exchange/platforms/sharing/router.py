"""The sharing platform's routes under /sharing/v1, one sub-router per sub-domain.

The records routes come first: they are the hot path, and routes are matched in order.
"""

from __future__ import annotations

from fastapi import APIRouter

from exchange.platforms.sharing.access import router as api_access
from exchange.platforms.sharing.applications import router as api_applications
from exchange.platforms.sharing.audit import router as api_audit
from exchange.platforms.sharing.catalog import router as api_catalog
from exchange.platforms.sharing.catalogue import router as api_catalogue
from exchange.platforms.sharing.disputes import router as api_disputes
from exchange.platforms.sharing.records import router as api_records
from exchange.platforms.sharing.vertical import router as api_vertical

router = APIRouter()
router.include_router(api_records.router)
router.include_router(api_catalog.router)
router.include_router(api_access.router)
router.include_router(api_applications.router)
router.include_router(api_audit.router)
router.include_router(api_disputes.router)
router.include_router(api_catalogue.router)
router.include_router(api_vertical.router)
