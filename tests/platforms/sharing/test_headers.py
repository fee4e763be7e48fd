"""Headers on every page and every answer carrying shared data; an OpenAPI a client can use."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from tests.platforms.sharing.builders import PURPOSE, Caller, grant, load_people

HTML_PAGES = ["/", "/datasets", "/console/login", "/datasets/no_such"]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_has_csp_framing_nosniff_and_referrer_headers(
    client: TestClient, path: str
) -> None:
    r = client.get(path)
    assert "text/html" in r.headers["content-type"], path
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_shared_data_is_never_cached(city: TestClient, consumer: Caller, provider: Caller) -> None:
    people = load_people(city, 3)
    grant(consumer, provider)
    consumer.extra = PURPOSE
    base = "/sharing/v1/resources/population"
    for r in (
        consumer.get(f"{base}/records/{people['id_number'][0].as_py()}"),
        consumer.get(f"{base}/records"),
        consumer.get(f"{base}/events"),
        consumer.get(f"{base}/snapshots/full"),
        consumer.get("/sharing/v1/allowed"),
        consumer.get("/sharing/v1/catalog"),
        consumer.get(f"{base}/records/11010519491231002X"),  # a 404 names the key
    ):
        assert r.headers["cache-control"] == "no-store", r.url
        assert r.headers["x-content-type-options"] == "nosniff"


def test_the_openapi_declares_auth_call_headers_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    validate(spec)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer" and "hubSig" in schemes
    records = spec["paths"]["/sharing/v1/resources/{code}/records"]["get"]
    assert records["security"] == [{"bearerAuth": []}]
    assert {"X-Purpose", "X-Case-Number"} <= {p["name"] for p in records["parameters"]}
    for status in ("400", "401", "403", "404", "422", "429"):
        body = records["responses"][status]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Error"}
    assert "security" not in spec["paths"]["/sharing/v1/token"]["post"]
