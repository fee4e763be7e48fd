"""Request bodies capped per route before they are read: a 150 MB JSON body is refused, not
parsed. Batch intake is the one route that takes gigabytes (it streams them to the store).

A declared `Content-Length` over the cap is answered 413 at once; a body sent without one
(chunked) is counted as it arrives and cut off with 413 at the cap.

A NUL character in the path, the query or a JSON / form body is refused with 400 here: no
value of ours holds one, and PostgreSQL cannot store one in text (it would be a 500 later).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange.core.errors import HubError, error_body

DEFAULT_BODY_BYTES = 1024**2


class NulInRequest(HubError):
    status_code = 400

    def __init__(self, where: str) -> None:
        super().__init__(f"{where}: contains a NUL character (\\u0000 or %00), which no value may")


# How a NUL is spelled in the bodies that are parsed as text; others (Arrow, PDF) are opaque.
_NUL_SPELLINGS = {
    b"application/json": (b"\\u0000", b"\x00"),
    b"application/x-www-form-urlencoded": (b"%00", b"\x00"),
}


def _nul_spellings(headers: Sequence[tuple[bytes, bytes]]) -> tuple[bytes, ...]:
    ctype = next((v for k, v in headers if k == b"content-type"), b"")
    return _NUL_SPELLINGS.get(ctype.split(b";")[0].strip().lower(), ())


class BodyTooLarge(HubError):
    status_code = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body: larger than {limit} bytes, the limit of this route")


@dataclass(frozen=True)
class BodyRule:
    method: str
    path: re.Pattern[str]
    limit: int


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, rules: Sequence[BodyRule], default: int = DEFAULT_BODY_BYTES
    ) -> None:
        self.app, self.rules, self.default = app, tuple(rules), default

    def limit_of(self, method: str, path: str) -> int:
        for rule in self.rules:
            if rule.method == method and rule.path.fullmatch(path):
                return rule.limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = _nul_in_target(scope)
        if target is not None:
            await _refuse(send, target)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        spellings = _nul_spellings(scope["headers"])
        limit = self.limit_of(scope["method"], scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, BodyTooLarge(limit))
            return
        seen = 0
        refused = False
        tail = b""  # the end of the previous chunk: a NUL's spelling may straddle two

        async def counted() -> Message:
            # Past the cap: answer 413 here and tell the app the client has gone (raising would
            # reach FastAPI's body parser, which turns any error into a 400).
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                nonlocal tail
                chunk = message.get("body", b"")
                seen += len(chunk)
                window = tail + chunk
                refusal = _body_refusal(seen, limit, window, spellings)
                if refusal is not None:
                    refused = True
                    await _refuse(send, refusal)
                    return {"type": "http.disconnect"}
                tail = window[-8:]
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, unless_refused)


def _nul_in_target(scope: Scope) -> HubError | None:
    if "\x00" in scope["path"]:
        return NulInRequest("path")
    if b"%00" in scope["query_string"]:
        return NulInRequest("query")
    return None


def _body_refusal(
    seen: int, limit: int, window: bytes, spellings: tuple[bytes, ...]
) -> HubError | None:
    if seen > limit:
        return BodyTooLarge(limit)
    if any(s in window for s in spellings):
        return NulInRequest("body")
    return None


async def _refuse(send: Send, exc: HubError) -> None:
    body = json.dumps(error_body(exc.code, exc.detail), ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
