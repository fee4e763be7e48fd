"""Bodies are read only after authentication, and never past the cap of their route."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.platforms.sharing.builders import Caller

MiB = 1024**2


def send_raw(
    http: TestClient,
    method: str,
    path: str,
    headers: dict[str, str],
    chunks: int,
    chunk: bytes = b" " * MiB,
    content_length: int | None = None,
) -> tuple[int, dict[str, Any] | None, int]:
    """Call the app at the ASGI level: (status, JSON body if any, request bytes it read)."""
    read = 0
    sent = 0
    out: dict[str, Any] = {"status": 0, "body": b""}
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if content_length is not None:
        raw.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": raw, "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        nonlocal read, sent
        if sent >= chunks:
            return {"type": "http.disconnect"}
        sent += 1
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": sent < chunks}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    async def call() -> None:
        await http.app(scope, receive, send)  # type: ignore[arg-type]

    http.portal.call(call)  # type: ignore[union-attr]
    try:
        body = json.loads(out["body"]) if out["body"] else None
    except ValueError:
        body = None
    return out["status"], body, read


JSON = {"Content-Type": "application/json"}


def test_an_anonymous_body_is_refused_unread(city: TestClient) -> None:
    status, body, read = send_raw(city, "POST", "/sharing/v1/applications", JSON, chunks=20)
    assert (status, body and body["error"]) == (401, "MissingToken")
    assert read == 0, f"{read} bytes read before authentication"
    forged = JSON | {"Authorization": "Bearer a.b.c"}
    status, _, read = send_raw(city, "POST", "/sharing/v1/clients", forged, chunks=20)
    assert status == 401 and read == 0


def test_a_console_form_without_a_session_is_not_read(city: TestClient) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, read = send_raw(city, "POST", "/console/lookup", form, chunks=20)
    assert status == 303 and read == 0


def test_bodies_are_capped_per_route(city: TestClient, consumer: Caller) -> None:
    auth = JSON | consumer.headers
    declared = send_raw(city, "POST", "/sharing/v1/applications", auth, 0, content_length=50 * MiB)
    assert declared[0] == 413 and declared[1] and declared[1]["error"] == "BodyTooLarge"
    assert declared[2] == 0
    status, body, read = send_raw(city, "POST", "/sharing/v1/applications", auth, chunks=20)
    assert status == 413 and body and "limit" in body["detail"] and read < 20 * MiB
    revoke = f"/sharing/v1/grants/{uuid.uuid4()}/revoke"
    status, body, read = send_raw(city, "POST", revoke, auth, chunks=3)
    assert status == 413 and read <= 2 * MiB, "1 MiB is the default cap"
    small = send_raw(city, "POST", "/sharing/v1/applications", auth, 1, chunk=b"{}")
    assert small[0] == 422, "an ordinary body still reaches validation"
