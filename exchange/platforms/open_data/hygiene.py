"""HTTP as harvesters, browsers and caches expect it on the open-data paths: HEAD and OPTIONS
on every route, CORS on the APIs and metadata, ETags with 304s, gzip.

One ASGI middleware, so the routers stay plain: a HEAD is routed as the GET it describes and
loses its body (a download stops after its first chunk instead of running to the end); an
OPTIONS answers 204 with the route's `Allow`; a GET answered in one piece gets an ETag of its
bytes, and a client holding that copy gets 304 instead. Answers that know their validators
before the work (downloads) set their own ETag and 304 (`web.not_modified`), untouched here.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGES = re.compile(r"^/($|datasets($|/)|organizations/|developers$|robots\.txt$)")
# What other sites' scripts may read: the APIs and every machine-readable file.
MACHINE = re.compile(
    r"^/(api/(3/)?action/|catalog|sitemap\.xml$|datapackage\.json$"
    r"|datasets/[^/]+(\.[a-z]+|/download\.[a-z]+|/datapackage\.json)$)"
)
ALREADY_COMPRESSED = (".parquet",)
EXPOSED = [
    "ETag",
    "Last-Modified",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Content-Disposition",
]


def is_open_data(path: str) -> bool:
    return bool(PAGES.match(path) or MACHINE.match(path))


class _HeadDone(Exception):
    """Raised into a streaming body once a HEAD has its headers: nothing more is wanted."""


class OpenDataHttp:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        conditional = _ConditionalGet(_Options(app))
        self.plain = conditional
        self.zipped = GZipMiddleware(conditional, minimum_size=1024)
        self.cors_zipped = self._cors(self.zipped)
        self.cors_plain = self._cors(conditional)

    @staticmethod
    def _cors(app: ASGIApp) -> ASGIApp:
        # No credentials: keys travel in a header, never in cookies, so "*" is safe.
        return CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
            allow_headers=["X-CKAN-API-Key", "Authorization", "Content-Type", "If-None-Match"],
            expose_headers=EXPOSED,
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not is_open_data(path):
            await self.app(scope, receive, send)
            return
        zip_it = not path.endswith(ALREADY_COMPRESSED)
        if MACHINE.match(path):
            inner = self.cors_zipped if zip_it else self.cors_plain
        else:
            inner = self.zipped if zip_it else self.plain
        if scope["method"] != "HEAD":
            await inner(scope, receive, send)
            return
        head = _Head(send)
        try:
            await inner({**scope, "method": "GET"}, receive, head.send)
        except BaseException:
            if not head.done:
                raise
            # the body we cut short unwinds here (as such or as the disconnect it became)


class _Head:
    def __init__(self, send: Send) -> None:
        self._send = send
        self.done = False

    async def send(self, message: Message) -> None:
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        if self.done:
            raise _HeadDone()
        self.done = True
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})
        if message.get("more_body", False):
            raise _HeadDone()


class _Options:
    """OPTIONS on any open-data route: 204 and the methods that route takes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        methods: set[str] = set()
        for route in scope["app"].router.routes:
            match, _ = route.matches({**scope, "method": "GET"})
            if match is not Match.NONE:
                methods |= set(getattr(route, "methods", None) or ())
        if not methods:
            await self.app(scope, receive, send)  # the app's own 404/405
            return
        if "GET" in methods:
            methods.add("HEAD")
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        await send({"type": "http.response.start", "status": 204, "headers": _raw(Allow=allow)})
        await send({"type": "http.response.body", "body": b""})


class _ConditionalGet:
    """An ETag for a GET answered in one piece (the hash of its bytes) and a 304 for a client
    that sent it back. Streamed answers pass through as they come."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        asked = Headers(scope=scope).get("if-none-match")

        async def hold(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.append(message)
                return
            if not held or message["type"] != "http.response.body":
                await send(message)
                return
            start = held.pop()
            headers = MutableHeaders(raw=list(start["headers"]))
            if (
                start["status"] != 200
                or message.get("more_body", False)
                or "etag" in headers
                or "set-cookie" in headers  # a page minting a visitor's cookie is theirs alone
            ):
                await send(start)
                await send(message)
                return
            tag = 'W/"' + hashlib.sha256(message.get("body", b"")).hexdigest()[:24] + '"'
            headers["ETag"] = tag
            if asked and tag.removeprefix("W/") in {
                t.strip().removeprefix("W/") for t in asked.split(",")
            }:
                kept = {k: v for k, v in headers.items() if k in _KEPT_ON_304}
                await send({"type": "http.response.start", "status": 304, "headers": _raw(**kept)})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": headers.raw})
            await send(message)

        await self.app(scope, receive, hold)


_KEPT_ON_304 = {
    "etag",
    "cache-control",
    "vary",
    "last-modified",
    "expires",
    "content-location",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
}


def _raw(**headers: Any) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), str(v).encode()) for k, v in headers.items()]
