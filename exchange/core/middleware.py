"""Pure ASGI middleware: request id, access log line and HTTP metrics for every request, and
the answer to an unexpected error (a 500 that names its request id)."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from functools import lru_cache
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange.core.context import caller_request_id_var, request_id_var
from exchange.core.errors import busy_response, internal_error_response, is_busy
from exchange.core.metrics import HTTP_LATENCY, HTTP_REQUESTS
from exchange.core.signing import CLOCK_HEADER
from exchange.core.signing import now as signing_now

log = logging.getLogger("hub.access")
log_error = logging.getLogger("hub.errors")
_VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# Request ids: random per process, then a counter (unique across workers and nodes without a
# system call per request).
_ID_PREFIX = os.urandom(8).hex()
_ids = itertools.count(1)
_CLOCK = CLOCK_HEADER.lower().encode()


def _new_id_prefix() -> None:  # a forked worker (gunicorn --preload) must not repeat ids
    global _ID_PREFIX
    _ID_PREFIX = os.urandom(8).hex()


os.register_at_fork(after_in_child=_new_id_prefix)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        # The node names every request itself; a caller's id is kept beside it for cross-node
        # tracing (only if it is harmless in logs), so no caller picks the id an audit entry,
        # a log line or an error body carries.
        caller = incoming.decode("latin-1") if _VALID_ID.fullmatch(incoming) else None
        rid = f"{_ID_PREFIX}{next(_ids):016x}"
        token = request_id_var.set(rid)
        caller_token = caller_request_id_var.set(caller)
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", rid.encode()))
                message["headers"].append((_CLOCK, f"{signing_now():.3f}".encode()))
                if caller is not None:
                    message["headers"].append((b"x-caller-request-id", caller.encode()))
                latency, count = _metrics(scope["method"], _route_of(scope), status)
                latency.observe(time.perf_counter() - start)
                count.inc()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here, inside the request's context, rather than by Starlette's outermost
            # handler: there the id was already gone from the body, the header and the log.
            busy = is_busy(exc)
            if busy:
                log_error.warning("database busy", extra={"error": str(exc).splitlines()[0]})
            else:
                log_error.exception("unhandled error", exc_info=exc)
            if started:  # a streamed body broke off: the server must drop the connection
                raise
            response = busy_response() if busy else internal_error_response()
            await response(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):  # (the arguments cost more than a skipped line)
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                    },
                )
            request_id_var.reset(token)
            caller_request_id_var.reset(caller_token)


@lru_cache(maxsize=4096)  # label sets are few: methods x route templates x statuses
def _metrics(method: str, route: str, status: int) -> tuple[Any, Any]:
    return HTTP_LATENCY.labels(method, route), HTTP_REQUESTS.labels(method, route, str(status))


def _route_of(scope: Scope) -> str:
    """The route template (e.g. /exchange/v1/nodes/{code}) that served this request.

    Depending on the FastAPI version a router's prefix is or is not part of `route.path`, so
    the prefix is recovered as the part of the real path in front of what the route matched.
    """
    route = scope.get("route")
    template, regex = getattr(route, "path", None), getattr(route, "path_regex", None)
    if not isinstance(template, str) or regex is None:
        return "unmatched"
    path: str = scope["path"]
    for i, ch in enumerate(path):
        if ch == "/" and regex.fullmatch(path[i:]):
            return path[:i] + template
    return template
