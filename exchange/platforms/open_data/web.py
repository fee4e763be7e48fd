"""HTTP plumbing shared by the portal's routers: templates, language, CSRF, rate limits.

No rules live here; it turns requests into calls and results into pages and headers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from exchange.core import classification, codelists, ratelimit
from exchange.core.errors import HubError
from exchange.core.ratelimit import RateState
from exchange.platforms.open_data import i18n
from exchange.platforms.open_data.datastore import pii_scan
from exchange.platforms.open_data.errors import ApiKeyRejected, CsrfRejected
from exchange.platforms.open_data.feedback import service as feedback

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["num"] = lambda n: f"{n:,}"
templates.env.filters["classification"] = classification.label
templates.env.filters["redact"] = pii_scan.redact
templates.env.globals["code_label"] = lambda f, v: codelists.label(f.code_list, v)
LANG_COOKIE = "lang"
CSRF_COOKIE = "od_csrf"
CSRF_FIELD = "csrf_token"

# Anonymous use works; a (free) API key raises every limit. Forms: posts per minute, per
# client IP or key. "api" is what a key's rate is divided by (its factor); the API itself is
# metered in server time (API_BUDGET_MS), downloads in bytes.
LIMITS = {"api": 120, "form": 10}


def base_url(request: Request) -> str:
    """The node's public address, from settings (`HUB_BASE_URL`): never from the request's
    Host header, which anyone can set and which would then rewrite sitemaps, DCAT IRIs and
    links for every cache and harvester that stores them."""
    return str(request.app.state.runtime.settings.base_url).rstrip("/")


def lang_of(request: Request) -> str:
    return i18n.pick(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def _url_with(request: Request, **changes: Any) -> str:
    """This page's URL with some parameters replaced (None removes them); others are kept."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    items += [(k, str(v)) for k, v in changes.items() if v is not None]
    query = urlencode(items)
    return request.url.path + (f"?{query}" if query else "")


def _toggle(request: Request, name: str, value: str) -> str:
    """This page's URL with one value of a multi-valued filter added or removed."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    if (name, value) in items:
        items.remove((name, value))
    else:
        items.append((name, value))
    query = urlencode(items)
    return request.url.path + (f"?{query}" if query else "")


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    lang = lang_of(request)
    rt = request.app.state.runtime
    token, new_nonce = csrf_token(request, rt.settings.secret_key.get_secret_value())
    ctx = {
        "t": i18n.translator(lang),
        "lang": lang,
        "node_name": rt.settings.resolved_node_name,
        "url_with": lambda **kw: _url_with(request, **kw),
        "toggle": lambda name, value: _toggle(request, name, value),
        "csrf_token": token,
        **context,
    }
    response = templates.TemplateResponse(
        request, template, ctx, status_code=status_code, headers=headers
    )
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    if new_nonce:
        response.set_cookie(CSRF_COOKIE, new_nonce, httponly=True, samesite="strict")
    return response


def error_page(request: Request, status_code: int, detail: str) -> HTMLResponse:
    return render(
        request, "error.html", {"status": status_code, "detail": detail}, status_code=status_code
    )


class PortalRoute(APIRoute):
    """HTML routes: a failure is an HTML page with the same status and the same message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def html_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except HubError as exc:
                page = error_page(request, exc.status_code, exc.detail)
                page.headers.update(exc.headers or {})
                return page
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {"loc": ["?"], "msg": "invalid"}
                where = ".".join(str(p) for p in first["loc"][1:]) or "request"
                return error_page(request, 422, f"{where}: {first['msg']}")

        return html_errors


class ApiRoute(APIRoute):
    """Machine-facing routes: a failure keeps the hub's error body and still carries the
    caller's X-RateLimit headers, like every other API response."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_rate_headers(request: Request) -> Response:
            try:
                return await handler(request)
            except HubError as exc:
                state: RateState | None = getattr(request.state, "rate", None)
                if state is not None:
                    exc.headers = {**state.headers(), **(exc.headers or {})}
                raise

        return with_rate_headers


# -- CSRF: a signed double-submit token --------------------------------------------------
def _sign(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()[:32]


def csrf_token(request: Request, secret: str) -> tuple[str, str | None]:
    """The form token for this visitor, and a new cookie nonce if they had none."""
    nonce = request.cookies.get(CSRF_COOKIE)
    fresh = None
    if not nonce or len(nonce) > 64:
        nonce = fresh = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(secret, nonce)}", fresh


def check_csrf(request: Request, secret: str, token: str | None) -> None:
    """The form must carry the token of the cookie this browser holds (SameSite=Strict):
    another site can neither read the cookie nor forge the signature."""
    nonce = request.cookies.get(CSRF_COOKIE)
    # compare_digest raises on non-ASCII strings; no token of ours is one
    if not nonce or not token or "." not in token or not (nonce + token).isascii():
        raise CsrfRejected()
    sent_nonce, sig = token.rsplit(".", 1)
    if not (
        hmac.compare_digest(sent_nonce, nonce) and hmac.compare_digest(sig, _sign(secret, nonce))
    ):
        raise CsrfRejected()


# -- rate limits -------------------------------------------------------------------------
def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def presented_key(request: Request) -> str | None:
    """An API key as CKAN clients send it (X-CKAN-API-Key, or a bare Authorization)."""
    for header in ("x-ckan-api-key", "x-api-key"):
        if request.headers.get(header):
            return request.headers[header]
    auth = request.headers.get("authorization", "")
    return auth if auth and " " not in auth else None


# -- conditional requests ------------------------------------------------------------------
def validators(etag: str, modified: dt.datetime | None) -> dict[str, str]:
    headers = {"ETag": etag}
    if modified is not None:
        aware = modified if modified.tzinfo else modified.replace(tzinfo=dt.UTC)
        headers["Last-Modified"] = format_datetime(aware.astimezone(dt.UTC), usegmt=True)
    return headers


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """A 304 when the client's copy is current (RFC 9110: If-None-Match wins over
    If-Modified-Since), else None. For answers whose validators are known before the work
    (downloads); other GET answers get a body ETag from `hygiene.OpenDataHttp`."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        if "*" in tags or headers["ETag"].removeprefix("W/") in tags:
            return Response(status_code=304, headers=headers)
        return None
    since, modified = request.headers.get("if-modified-since"), headers.get("Last-Modified")
    if since and modified:
        try:
            if parsedate_to_datetime(modified) <= parsedate_to_datetime(since):
                return Response(status_code=304, headers=headers)
        except (TypeError, ValueError):
            return None  # an unreadable date is ignored, as RFC 9110 says
    return None


# -- quotas for machines: server time for the API, bytes for downloads --------------------
# A harvester sending one request at a time has at most one in flight, so it can never use
# more server time than the window lasts: a budget of one window (plus the one request that
# may straddle its start) is one that such a client never reaches, however fast we answer,
# while parallel hammering reaches it at once. Downloads are counted in bytes, so one file of
# 1 GB and a thousand small ones cost what they weigh. A key multiplies both (its rate / 120).
API_WINDOW_S = 60
API_BUDGET_MS = 90_000
DOWNLOAD_WINDOW_S = 3600
DOWNLOAD_BUDGET_BYTES = 20 * 2**30


def _caller(request: Request, session: Session) -> tuple[str, int]:
    """Who is counted (key or IP) and the factor a key gives; sets request.state.api_key_id."""
    raw = presented_key(request)
    request.state.api_key_id = None
    if not raw:
        return f"ip:{client_ip(request)}", 1
    key = feedback.find_api_key(session, raw)
    if key is None:
        raise ApiKeyRejected()
    request.state.api_key_id = str(key.id)
    return f"key:{key.id}", max(1, key.rate_per_minute // LIMITS["api"])


@dataclass
class Meter:
    """One request's charge: opened (1 unit, refused past the budget) at the start, the rest
    added by `charge` when the work is done; each in its own short transaction on the primary
    (the edge), so no read path ever commits and the reads can stay on the replica."""

    request: Request
    name: str
    budget: int
    window_s: int
    state: RateState | None = None

    def open(self) -> RateState:
        rt = self.request.app.state.runtime
        with rt.sessions() as session:
            try:
                who, factor = _caller(self.request, session)
                self.name = f"{self.name}:{who}"
                self.budget *= factor
                self.state = ratelimit.hit(
                    session, self.name, limit=self.budget, window_s=self.window_s
                )
            finally:
                session.commit()  # the opening unit stands even when refused
        self.request.state.rate = self.state
        return self.state

    def charge(self, units: int) -> None:
        if units <= 1 or self.state is None:
            return
        rt = self.request.app.state.runtime
        with rt.sessions() as session:
            ratelimit.add(session, self.name, cost=units - 1, window_s=self.window_s)
            session.commit()


def api_meter(request: Request) -> Iterator[RateState]:
    """Dependency: the API's server-time budget (milliseconds per minute)."""
    meter = Meter(request, "od:api-ms", API_BUDGET_MS, API_WINDOW_S)
    started = time.monotonic()
    state = meter.open()
    try:
        yield state
    finally:
        meter.charge(int((time.monotonic() - started) * 1000))


def download_meter(request: Request) -> Meter:
    """Dependency: the download byte budget; the route charges what it sent (`metered`)."""
    meter = Meter(request, "od:download-bytes", DOWNLOAD_BUDGET_BYTES, DOWNLOAD_WINDOW_S)
    meter.open()
    return meter


def metered(meter: Meter, body: Iterator[bytes]) -> Iterator[bytes]:
    """`body`, counting what actually went out (a client hanging up pays what it got)."""
    sent = 0
    try:
        for chunk in body:
            sent += len(chunk)
            yield chunk
    finally:
        meter.charge(sent)


ApiQuota = Annotated[RateState, Depends(api_meter)]
DownloadQuota = Annotated[Meter, Depends(download_meter)]


def limit(request: Request, session: Session, bucket: str) -> RateState:
    """Count this form post against its caller's per-minute limit; raises RateLimited (429)
    past it. The count stands even if the request's transaction is rolled back."""
    who, factor = _caller(request, session)
    name = f"od:{bucket}:{who}"
    per_minute = LIMITS[bucket] * factor
    state = ratelimit.hit_request(request, session, name, limit=per_minute, window_s=60)
    request.state.rate = state
    return state
