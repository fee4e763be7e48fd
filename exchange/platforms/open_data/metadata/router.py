"""Downloads and machine-readable metadata: data files, DCAT-AP, catalogue CSV, sitemap.

Reads go to the replica while it is fresh (`ReadSession`, `rt.reads`); the quota is a write,
counted on the primary by a dependency (`web.ApiQuota`, `web.DownloadQuota`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse

from exchange.core.deps import ReadSession, RuntimeDep
from exchange.platforms.open_data import web
from exchange.platforms.open_data.ckan.dicts import iso
from exchange.platforms.open_data.datastore import exports
from exchange.platforms.open_data.metadata import catalog_export
from exchange.platforms.open_data.metadata import service as metadata
from exchange.platforms.open_data.portal import service, visuals

router = APIRouter(tags=["open data"], route_class=web.ApiRoute)
JSONLD = "application/ld+json"


def _jsonld(doc: object, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return Response(body, media_type=JSONLD, headers=headers)


@router.get(
    "/datasets/{code}/download.{fmt}",
    summary="Download a whole open dataset (CSV, JSON, Parquet, GeoJSON), streamed",
    response_class=StreamingResponse,
)
def download(
    request: Request,
    code: str,
    fmt: Annotated[str, Path(max_length=10)],
    rt: RuntimeDep,
    meter: web.DownloadQuota,
) -> Response:
    # The entry is read and its session ended before the file streams (the export reads in
    # a session of its own): no replica connection is held for the length of a download.
    with rt.reads.read_sessions()() as session:
        try:
            resource, schema = service.readable_schema(
                session, rt.schemas, code, request.state.api_key_id
            )
            # The file changes only when a batch lands (row count, update time) or the schema
            # does: validators known before the work, so a 304 costs no export.
            modified = resource.last_updated_at
            version = f"{resource.row_count}.{iso(modified)}.{resource.schema_sha256[:12]}"
        finally:
            session.rollback()
    out = exports.export(rt.reads.read_sessions(), schema, fmt)
    tag = hashlib.sha256(f"{code}.{fmt}.{version}".encode()).hexdigest()[:24]
    headers = {
        **(meter.state.headers() if meter.state else {}),
        **web.validators(f'W/"{tag}"', modified),
        "Content-Disposition": f'attachment; filename="{out.filename}"',
        "Cache-Control": "public, max-age=300",
    }
    unchanged = web.not_modified(request, headers)
    if unchanged is not None:
        return unchanged
    body = web.metered(meter, out.body)
    return StreamingResponse(body, media_type=out.media_type, headers=headers)


@router.get("/datasets/{code}.jsonld", summary="One dataset as DCAT-AP JSON-LD")
def dataset_jsonld(
    request: Request, code: str, session: ReadSession, rt: RuntimeDep, state: web.ApiQuota
) -> Response:
    card = service.card_of(session, rt.schemas, code)
    schema = rt.schemas.get(code)
    span = visuals.temporal(session, schema, card.resource) if card.open and schema else None
    doc = metadata.with_context(metadata.dcat_dataset(card, web.base_url(request), span))
    return _jsonld(doc, state.headers())


@router.get("/catalog.jsonld", summary="The whole catalogue as DCAT-AP JSON-LD")
def catalog_jsonld(
    request: Request, session: ReadSession, rt: RuntimeDep, state: web.ApiQuota
) -> Response:
    cards = catalog_export.all_cards(session, rt.schemas)
    settings = rt.settings
    doc = metadata.dcat_catalog(
        cards, web.base_url(request), settings.resolved_node_name, settings.node_code
    )
    return _jsonld(doc, state.headers())


@router.get(
    "/catalog.csv",
    summary="The whole catalogue's metadata as one CSV file",
    response_class=StreamingResponse,
)
def catalog_csv(request: Request, rt: RuntimeDep, state: web.ApiQuota) -> StreamingResponse:
    body = catalog_export.catalogue_csv(rt.reads.read_sessions(), rt.schemas, web.base_url(request))
    headers = {**state.headers(), "Content-Disposition": 'attachment; filename="catalog.csv"'}
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/sitemap.xml", include_in_schema=False)
def sitemap(request: Request, session: ReadSession) -> Response:
    entries = catalog_export.sitemap_entries(session)
    return Response(metadata.sitemap(web.base_url(request), entries), media_type="application/xml")


@router.get("/robots.txt", include_in_schema=False, response_class=PlainTextResponse)
def robots(request: Request) -> str:
    return f"User-agent: *\nDisallow: /staff/\nSitemap: {web.base_url(request)}/sitemap.xml\n"
