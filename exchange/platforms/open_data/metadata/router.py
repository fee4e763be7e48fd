"""Downloads and machine-readable metadata: data files, DCAT-AP, catalogue CSV, sitemap.

Reads go to the replica while it is fresh (`ReadSession`, `rt.reads`); the quota is a write,
counted on the primary by a dependency (`web.ApiQuota`, `web.DownloadQuota`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse
from sqlalchemy.orm import Session

from exchange.core.deps import ReadSession, RuntimeDep
from exchange.core.resource_schema import ResourceSchema
from exchange.core.runtime import Runtime
from exchange.directory.models import Resource
from exchange.platforms.open_data import web
from exchange.platforms.open_data.datastore import exports
from exchange.platforms.open_data.metadata import catalog_export, datapackage
from exchange.platforms.open_data.metadata import service as metadata
from exchange.platforms.open_data.portal import service, visuals

router = APIRouter(tags=["open data"], route_class=web.ApiRoute)


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
            # validators known before the work, so a 304 costs no export
            modified = resource.last_updated_at
            tag = datapackage.download_tag(resource, fmt.lower())
        finally:
            session.rollback()
    out = exports.export(rt.reads.read_sessions(), schema, fmt)
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


def dataset_doc(request: Request, session: Session, rt: Runtime, code: str) -> dict[str, Any]:
    card = service.card_of(session, rt.schemas, code)
    schema = rt.schemas.get(code)
    span = visuals.temporal(session, schema, card.resource) if card.open and schema else None
    name = rt.settings.resolved_node_name
    return metadata.dataset_document(card, web.base_url(request), name, span)


def rdf_response(
    doc: dict[str, Any], ext: str, headers: dict[str, str], *, negotiated: bool = False
) -> Response:
    media = metadata.RDF_FORMATS[ext][0]
    sent = {**headers, **({"Vary": "Accept"} if negotiated else {})}
    return Response(metadata.serialise(doc, ext), media_type=media, headers=sent)


def _described(ext: str) -> dict[int | str, dict[str, Any]]:
    """What the OpenAPI says a 200 of this syntax is: the media type actually served."""
    media = metadata.RDF_FORMATS[ext][0]
    schema = {"type": "object", "required": ["@context"]} if ext == "jsonld" else {"type": "string"}
    return {200: {"content": {media: {"schema": schema}}}}


def _media(ext: str) -> list[tuple[str, Any]]:
    return list(_described(ext)[200]["content"].items())


def _dataset_route(ext: str) -> None:
    @router.get(
        f"/datasets/{{code}}.{ext}",
        summary=f"One dataset as DCAT-AP ({metadata.RDF_FORMATS[ext][0]})",
        name=f"dataset_{ext}",
        response_class=Response,
        responses=_described(ext),
    )
    def one(
        request: Request, code: str, session: ReadSession, rt: RuntimeDep, state: web.ApiQuota
    ) -> Response:
        return rdf_response(dataset_doc(request, session, rt, code), ext, state.headers())


def _catalog(request: Request, session: Session, rt: Runtime) -> dict[str, Any]:
    cards = catalog_export.all_cards(session, rt.schemas)
    spans = {}
    for card in cards:
        schema = rt.schemas.get(card.resource.code)
        span = visuals.temporal(session, schema, card.resource) if card.open and schema else None
        if span:
            spans[card.resource.code] = span
    settings = rt.settings
    return metadata.dcat_catalog(
        cards, web.base_url(request), settings.resolved_node_name, settings.node_code, spans
    )


def _catalog_route(ext: str) -> None:
    @router.get(
        f"/catalog.{ext}",
        summary=f"The whole catalogue as DCAT-AP ({metadata.RDF_FORMATS[ext][0]})",
        name=f"catalog_{ext}",
        response_class=Response,
        responses=_described(ext),
    )
    def whole(
        request: Request, session: ReadSession, rt: RuntimeDep, state: web.ApiQuota
    ) -> Response:
        return rdf_response(_catalog(request, session, rt), ext, state.headers())


for _ext in metadata.RDF_FORMATS:
    _dataset_route(_ext)
    _catalog_route(_ext)


def _measurer(rt: Runtime) -> datapackage.Measurer:
    def measured(schema: ResourceSchema, resource: Resource, fmt: str) -> tuple[int, str]:
        return datapackage.measure(rt.store, rt.reads.read_sessions(), schema, resource, fmt)

    return measured


def _json(doc: dict[str, Any], headers: dict[str, str]) -> Response:
    body = json.dumps(doc, ensure_ascii=False, indent=1)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/datasets/{code}/datapackage.json",
    summary="One open dataset as a Frictionless Data Package (schema, bytes, SHA-256)",
)
def dataset_datapackage(
    request: Request, code: str, session: ReadSession, rt: RuntimeDep, state: web.ApiQuota
) -> Response:
    _, schema = service.readable_schema(session, rt.schemas, code, request.state.api_key_id)
    card = service.card_of(session, rt.schemas, code)
    doc = datapackage.dataset_package(card, schema, web.base_url(request), _measurer(rt))
    return _json(doc, state.headers())


@router.get(
    "/datapackage.json",
    summary="Every open dataset's CSV as one Frictionless Data Package",
)
def catalogue_datapackage(
    request: Request, session: ReadSession, rt: RuntimeDep, state: web.ApiQuota
) -> Response:
    cards = catalog_export.all_cards(session, rt.schemas)
    doc = datapackage.catalogue_package(
        cards, rt.schemas, web.base_url(request), rt.settings.resolved_node_name, _measurer(rt)
    )
    return _json(doc, state.headers())


@router.get(
    "/catalog",
    summary="The catalogue in the RDF syntax the Accept header asks for",
    response_class=Response,
    responses={
        200: {
            "content": {
                k: v for e in metadata.RDF_FORMATS for k, v in _described(e)[200]["content"].items()
            }
        }
    },
)
def catalog(
    request: Request, session: ReadSession, rt: RuntimeDep, state: web.ApiQuota
) -> Response:
    ext = metadata.negotiate(request.headers.get("accept"), "jsonld") or "jsonld"
    return rdf_response(_catalog(request, session, rt), ext, state.headers(), negotiated=True)


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
