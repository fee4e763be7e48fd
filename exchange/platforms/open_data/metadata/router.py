"""Downloads and machine-readable metadata: data files, DCAT-AP, catalogue CSV, sitemap.

Reads go to the replica while it is fresh (`ReadSession`, `rt.reads`); the rate-limit count is
a write and is committed on the primary first (`web.limit_now`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse

from exchange.core.deps import ReadSession, RuntimeDep
from exchange.platforms.open_data import web
from exchange.platforms.open_data.datastore import exports
from exchange.platforms.open_data.metadata import catalog_export
from exchange.platforms.open_data.metadata import service as metadata
from exchange.platforms.open_data.portal import service, visuals
from exchange.platforms.open_data.portal.router import base_url

router = APIRouter(tags=["open data"], route_class=web.ApiRoute)
JSONLD = "application/ld+json"


JSONLD_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {JSONLD: {"schema": {"type": "object", "required": ["@context"]}}}}
}


class JsonLdResponse(Response):
    media_type = JSONLD  # so the OpenAPI says what is served


def _jsonld(doc: object, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return JsonLdResponse(body, headers=headers)


@router.get(
    "/datasets/{code}/download.{fmt}",
    summary="Download a whole open dataset (CSV, JSON, Parquet, GeoJSON), streamed",
    response_class=StreamingResponse,
)
def download(
    request: Request,
    code: str,
    fmt: Annotated[str, Path(max_length=10)],
    session: ReadSession,
    rt: RuntimeDep,
) -> StreamingResponse:
    state = web.limit_now(request, "download")
    _, schema = service.readable_schema(session, rt.schemas, code, request.state.api_key_id)
    out = exports.export(rt.reads.read_sessions(), schema, fmt)
    headers = {
        **state.headers(),
        "Content-Disposition": f'attachment; filename="{out.filename}"',
        "Cache-Control": "public, max-age=300",
    }
    return StreamingResponse(out.body, media_type=out.media_type, headers=headers)


@router.get(
    "/datasets/{code}.jsonld",
    summary="One dataset as DCAT-AP JSON-LD",
    response_class=JsonLdResponse,
    responses=JSONLD_DOC,
)
def dataset_jsonld(request: Request, code: str, session: ReadSession, rt: RuntimeDep) -> Response:
    state = web.limit_now(request, "api")
    card = service.card_of(session, rt.schemas, code)
    schema = rt.schemas.get(code)
    span = visuals.temporal(session, schema, card.resource) if card.open and schema else None
    doc = metadata.with_context(metadata.dcat_dataset(card, base_url(request), span))
    return _jsonld(doc, state.headers())


@router.get(
    "/catalog.jsonld",
    summary="The whole catalogue as DCAT-AP JSON-LD",
    response_class=JsonLdResponse,
    responses=JSONLD_DOC,
)
def catalog_jsonld(request: Request, session: ReadSession, rt: RuntimeDep) -> Response:
    state = web.limit_now(request, "api")
    cards = catalog_export.all_cards(session, rt.schemas)
    settings = rt.settings
    doc = metadata.dcat_catalog(
        cards, base_url(request), settings.resolved_node_name, settings.node_code
    )
    return _jsonld(doc, state.headers())


@router.get(
    "/catalog.csv",
    summary="The whole catalogue's metadata as one CSV file",
    response_class=StreamingResponse,
)
def catalog_csv(request: Request, rt: RuntimeDep) -> StreamingResponse:
    state = web.limit_now(request, "api")
    body = catalog_export.catalogue_csv(rt.reads.read_sessions(), rt.schemas, base_url(request))
    headers = {**state.headers(), "Content-Disposition": 'attachment; filename="catalog.csv"'}
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/sitemap.xml", include_in_schema=False)
def sitemap(request: Request, session: ReadSession) -> Response:
    entries = catalog_export.sitemap_entries(session)
    return Response(metadata.sitemap(base_url(request), entries), media_type="application/xml")


@router.get("/robots.txt", include_in_schema=False, response_class=PlainTextResponse)
def robots(request: Request) -> str:
    return f"User-agent: *\nDisallow: /staff/\nSitemap: {base_url(request)}/sitemap.xml\n"
