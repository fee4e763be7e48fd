"""Routes: the resource catalogue (共享目录), for government callers only: a department token or
a console session. The public sees open resources on the portal instead.

Read-only, so served from the read replica when one is configured and fresh.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from exchange.core.db import BIGINT_MAX
from exchange.core.deps import ReadSession
from exchange.core.resource_schema import ShareClass
from exchange.platforms.sharing.catalog import service
from exchange.platforms.sharing.catalog.schemas import CatalogEntry, CatalogPage
from exchange.platforms.sharing.deps import AuthFirstRoute, GovernmentCaller

router = APIRouter(route_class=AuthFirstRoute, tags=["sharing"])


@router.get("/catalog", response_model=CatalogPage, summary="Search the resource catalogue")
def search_catalog(
    who: GovernmentCaller,
    session: ReadSession,
    q: Annotated[str | None, Query(max_length=100, description="keyword, Chinese or code")] = None,
    provider: Annotated[str | None, Query(max_length=32)] = None,
    share_class: ShareClass | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> CatalogPage:
    return service.search(
        session, q=q, provider=provider, share_class=share_class, limit=limit, offset=offset
    )


@router.get("/catalog/{code}", response_model=CatalogEntry, summary="One catalogue entry")
def get_catalog_entry(code: str, who: GovernmentCaller, session: ReadSession) -> CatalogEntry:
    return service.entry(session, code)
