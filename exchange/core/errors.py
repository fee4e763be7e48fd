"""One error base and one JSON body for every failure the hub reports.

Body: {"error": "GrantExpired", "detail": "...", "request_id": "...", "problems": [...]}
`problems` lists machine-readable findings (rule, row, field) where there are several.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from exchange.core.context import request_id_var

log = logging.getLogger("hub.errors")


class HubError(Exception):
    status_code: int = 400
    headers: dict[str, str] | None = None

    def __init__(
        self,
        detail: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        problems: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        self.code = code or type(self).__name__
        self.problems = problems
        if headers is not None:
            self.headers = headers


class BadRequest(HubError):
    status_code = 400


class Unauthorized(HubError):
    status_code = 401


class Forbidden(HubError):
    status_code = 403


class NotFound(HubError):
    status_code = 404


class Conflict(HubError):
    status_code = 409


class PayloadTooLarge(HubError):
    status_code = 413


class Unprocessable(HubError):
    status_code = 422


class TooManyRequests(HubError):
    status_code = 429

    def __init__(self, detail: str, *, retry_after_s: int, **kw: Any) -> None:
        headers = {"Retry-After": str(retry_after_s), **(kw.pop("headers", None) or {})}
        super().__init__(detail, headers=headers, **kw)


class Unavailable(HubError):
    status_code = 503


def error_body(code: str, detail: str, problems: list[dict[str, Any]] | None = None) -> dict:
    body: dict[str, Any] = {"error": code, "detail": detail, "request_id": request_id_var.get()}
    if problems:
        body["problems"] = problems
    return body


def _hub_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubError)
    return JSONResponse(
        error_body(exc.code, exc.detail, exc.problems),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]), "rule": e["type"], "message": e["msg"]}
        for e in exc.errors()
    ]
    first = problems[0] if problems else {"field": "?", "message": "invalid"}
    return JSONResponse(
        error_body("InvalidRequest", f"{first['field']}: {first['message']}", problems),
        status_code=422,
    )


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    names = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthorized", 403: "Forbidden"}
    return JSONResponse(
        error_body(names.get(exc.status_code, "HTTPError"), str(exc.detail)),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(
        error_body("InternalError", "an unexpected error occurred; quote the request_id"),
        status_code=500,
    )


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
