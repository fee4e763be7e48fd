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
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
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


def error_body(
    code: str, detail: str, problems: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
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


# Busy, not broken: SQLite's one writer held the lock past the busy timeout, or PostgreSQL
# gave up on a lock, a serialization or a deadlock. The same call succeeds when retried.
_BUSY_SQLSTATES = {"40001", "40P01", "55P03"}
_BUSY_SQLITE = ("database is locked", "database table is locked", "database is busy")
RETRY_AFTER_S = 1


def is_busy(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    return str(exc.orig).startswith(_BUSY_SQLITE)


def busy_response() -> JSONResponse:
    return JSONResponse(
        error_body("DatabaseBusy", "the database is busy with other writes; retry shortly"),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _database_error(_: Request, exc: Exception) -> JSONResponse:
    if is_busy(exc):
        log.warning("database busy", extra={"error": str(exc).splitlines()[0]})
        return busy_response()
    return _unexpected(_, exc)


def internal_error_response() -> JSONResponse:
    return JSONResponse(
        error_body("InternalError", "an unexpected error occurred; quote the request_id"),
        status_code=500,
    )


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    """Reached only for what `RequestContextMiddleware` did not answer (it answers the rest)."""
    log.exception("unhandled error", exc_info=exc)
    return internal_error_response()


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(Exception, _unexpected)
