"""HTTP plumbing shared by the portal's routers: templates, language, CSRF, rate limits.

No rules live here; it turns requests into calls and results into pages and headers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
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

# Anonymous use works; a (free) API key raises the limit. Per minute, per client IP or key.
LIMITS = {"api": 120, "download": 20, "form": 10}


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


def limit_now(request: Request, bucket: str) -> RateState:
    """`limit` in its own transaction on the primary, committed at once (also past the limit):
    for read-only routes whose reads go to the replica."""
    with request.app.state.runtime.sessions() as session:
        try:
            return limit(request, session, bucket, durable=False)
        finally:
            session.commit()


def limit(request: Request, session: Session, bucket: str, *, durable: bool = True) -> RateState:
    """Count this request against its caller's limit; raises RateLimited (429) past it.

    `durable`: keep the count even if the request's transaction is rolled back (routes using
    the request session); a caller that commits the count itself passes False.
    """
    raw = presented_key(request)
    per_minute = LIMITS[bucket]
    request.state.api_key_id = None
    if raw:
        key = feedback.find_api_key(session, raw)
        if key is None:
            raise ApiKeyRejected()
        request.state.api_key_id = str(key.id)
        who, per_minute = f"key:{key.id}", key.rate_per_minute * LIMITS[bucket] // LIMITS["api"]
    else:
        who = f"ip:{client_ip(request)}"
    name = f"od:{bucket}:{who}"
    if durable:
        state = ratelimit.hit_request(request, session, name, limit=per_minute, window_s=60)
    else:
        state = ratelimit.hit(session, name, limit=per_minute, window_s=60)
    request.state.rate = state
    return state
