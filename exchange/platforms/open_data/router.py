"""The open-data platform's routes: files and metadata first (their paths are more specific
than the dataset pages'), then the CKAN API, the public site and the staff pages."""

from __future__ import annotations

from fastapi import APIRouter

from exchange.platforms.open_data.ckan import router as ckan_api
from exchange.platforms.open_data.feedback import router as staff
from exchange.platforms.open_data.metadata import router as files
from exchange.platforms.open_data.portal import router as portal

router = APIRouter()
router.include_router(files.router)
router.include_router(ckan_api.router)
router.include_router(portal.router)
router.include_router(staff.router)
