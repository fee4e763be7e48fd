"""The public site: home, search, dataset pages, API pages, feedback, developer keys.

The pages only read: they use `ReadSession` (the replica while it is fresh). Feedback and key
requests write, and count against rate limits, on the primary (`DbSession`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from exchange.core.deps import DbSession, ReadSession, RuntimeDep
from exchange.core.runtime import Runtime
from exchange.core.sealed import open_value, seal_value, sealing_key
from exchange.platforms.open_data import web
from exchange.platforms.open_data.errors import BadParameter
from exchange.platforms.open_data.feedback import service as feedback
from exchange.platforms.open_data.metadata import service as metadata
from exchange.platforms.open_data.portal import service, visuals

router = APIRouter(route_class=web.PortalRoute, include_in_schema=False)
PAGE_SIZE = 20
Values = Annotated[list[str], Query(max_length=200)]


def _cursor_key(rt: Runtime) -> bytes:
    return sealing_key(rt.settings.secret_key.get_secret_value(), "portal-cursor")


def encode_cursor(rt: Runtime, key: tuple[Any, ...] | None) -> str | None:
    """Sealed: a dataset's key may be a field the portal withholds."""
    if key is None:
        return None
    return seal_value(
        _cursor_key(rt), [str(v) if not isinstance(v, int | float) else v for v in key]
    )


def decode_cursor(rt: Runtime, name: str, raw: str | None) -> list[Any] | None:
    if raw is None:
        return None
    try:
        value = open_value(_cursor_key(rt), raw)
    except ValueError:
        raise BadParameter(name, "not a cursor of this dataset") from None
    if not isinstance(value, list):
        raise BadParameter(name, "not a cursor of this dataset")
    return value


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: ReadSession, rt: RuntimeDep) -> HTMLResponse:
    return web.render(request, "home.html", {"home": service.home(session, rt.schemas)})


@router.get("/datasets", response_class=HTMLResponse)
def search(
    request: Request,
    session: ReadSession,
    rt: RuntimeDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    provider: Values = [],  # noqa: B006 - FastAPI copies defaults
    topic: Values = [],  # noqa: B006
    format: Values = [],  # noqa: B006
    update_cycle: Values = [],  # noqa: B006
    open_class: Values = [],  # noqa: B006
    tag: Values = [],  # noqa: B006
    sort: str | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    filters = {
        "provider": provider,
        "topic": topic,
        "format": format,
        "update_cycle": update_cycle,
        "open_class": open_class,
        "tag": tag,
    }
    result = service.search(
        session,
        rt.schemas,
        q=q,
        filters=filters,
        sort=sort,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return web.render(
        request,
        "search.html",
        {
            "q": q or "",
            "result": result,
            "filters": filters,
            "sort": sort or ("relevance" if result.terms else "updated"),
            "page": page,
            "pages": max(1, -(-result.total // PAGE_SIZE)),
        },
    )


@router.get("/organizations/{code}")
def organization(code: str) -> RedirectResponse:
    return RedirectResponse(f"/datasets?provider={code.upper()}", status_code=303)


@router.get("/datasets/{code}", response_class=HTMLResponse)
def dataset(
    request: Request,
    code: str,
    session: ReadSession,
    rt: RuntimeDep,
    after: str | None = None,
    before: str | None = None,
    size: Annotated[int, Query(ge=10, le=100)] = 20,
    series: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    rdf = metadata.negotiate(request.headers.get("accept"), None)
    if rdf is not None:
        # The dataset's IRI is this page: RDF clients are sent to its description, as the
        # W3C's "Cool URIs for the Semantic Web" advise (303 See Other).
        return RedirectResponse(
            f"/datasets/{code}.{rdf}", status_code=303, headers={"Vary": "Accept"}
        )
    d = service.dataset(session, rt.schemas, code)
    page = vis = None
    if d.card.open and d.schema is not None and d.served:
        page = service.preview(
            session,
            d.schema,
            size=size,
            after=decode_cursor(rt, "after", after),
            before=decode_cursor(rt, "before", before),
        )
        vis = visuals.visuals(session, d.schema, d.resource, series)
    paging_back = before is not None
    context = {
        "d": d,
        "page": page,
        "vis": vis,
        "size": size,
        "next_cursor": encode_cursor(rt, page.last_key)
        if page and (page.has_more or paging_back)
        else None,
        "prev_cursor": encode_cursor(rt, page.first_key)
        if page and (after is not None or (paging_back and page.has_more))
        else None,
        "feedback": feedback.for_dataset(session, code),
        "feedback_sent": request.query_params.get("feedback") == "sent",
        "schema_org": metadata.schema_org(
            d.card,
            web.base_url(request),
            vis.temporal if vis else None,
            variables=d.served,
            catalog_name=f"{rt.settings.resolved_node_name}公共数据开放平台",
        ),
    }
    return web.render(request, "dataset.html", context, headers={"Vary": "Accept"})


@router.get("/datasets/{code}/api", response_class=HTMLResponse)
def dataset_api(request: Request, code: str, session: ReadSession, rt: RuntimeDep) -> HTMLResponse:
    d = service.dataset(session, rt.schemas, code)
    return web.render(request, "api.html", {"d": d, "base": web.base_url(request)})


@router.post("/datasets/{code}/feedback")
def send_feedback(
    request: Request,
    code: str,
    session: DbSession,
    rt: RuntimeDep,
    kind: Annotated[str, Form(max_length=16)],
    message: Annotated[str, Form(max_length=4000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    contact: Annotated[str, Form(max_length=400)] = "",
) -> RedirectResponse:
    web.check_csrf(request, rt.settings.secret_key.get_secret_value(), csrf_token)
    web.limit(request, session, "form")
    service.listed_entry(session, code)
    feedback.report(session, code, kind=kind, message=message, contact=contact)
    return RedirectResponse(f"/datasets/{code}?feedback=sent#feedback", status_code=303)


@router.get("/developers", response_class=HTMLResponse)
def developers(request: Request) -> HTMLResponse:
    return web.render(request, "developers.html", {"base": web.base_url(request), "new_key": None})


@router.post("/developers/keys", response_class=HTMLResponse)
def request_key(
    request: Request,
    session: DbSession,
    rt: RuntimeDep,
    label: Annotated[str, Form(max_length=200)],
    contact: Annotated[str, Form(max_length=400)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    web.check_csrf(request, rt.settings.secret_key.get_secret_value(), csrf_token)
    web.limit(request, session, "form")
    _, raw = feedback.issue_api_key(session, label=label, contact=contact)
    return web.render(request, "developers.html", {"base": web.base_url(request), "new_key": raw})
