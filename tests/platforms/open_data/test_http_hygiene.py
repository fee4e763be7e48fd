"""HTTP as harvesters, caches and other sites' scripts expect it: addresses from settings,
HEAD and OPTIONS, CORS, validators and 304s, gzip, and quotas a polite client never hits."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from exchange.core.settings import Settings
from exchange.platforms.open_data import web

EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def test_a_forged_host_header_changes_no_address_we_publish(
    client: TestClient, loaded: dict[str, int], settings: Settings
) -> None:
    for path in (
        "/sitemap.xml",
        "/robots.txt",
        "/catalog.jsonld",
        "/datasets/geo_address.jsonld",
        "/catalog.csv",
        "/datasets/geo_address",
        "/datasets/macro_indicator/api",
        "/api/3/action/package_show?id=geo_address",
    ):
        honest = client.get(path)
        forged = client.get(path, headers=EVIL)
        assert forged.status_code == 200, path
        assert "evil.example" not in forged.text, path
        assert settings.base_url in forged.text, path
        if not path.startswith("/datasets/geo_address"):  # pages carry a per-visitor token
            assert forged.content == honest.content, path


def test_head_answers_like_get_without_a_body(client: TestClient, loaded: dict[str, int]) -> None:
    for path in ("/catalog.jsonld", "/", "/datasets/geo_address", "/sitemap.xml"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == 200 and head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
    download = client.head("/datasets/geo_address/download.csv")
    assert download.status_code == 200 and download.content == b""
    assert download.headers["content-disposition"].startswith("attachment")
    assert client.head("/datasets/no_such_thing.jsonld").status_code == 404


def test_options_names_the_methods_of_the_route(client: TestClient, city: None) -> None:
    api = client.options("/api/3/action/package_search")
    assert api.status_code == 204
    assert set(api.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    catalog = client.options("/catalog.jsonld")
    assert set(catalog.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert client.options("/no/such/route").status_code in (404, 405)


def test_cors_opens_the_apis_and_metadata_but_not_the_pages(
    client: TestClient, loaded: dict[str, int]
) -> None:
    origin = {"Origin": "https://analysis.example.org"}
    preflight = client.options(
        "/api/3/action/datastore_search",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-CKAN-API-Key, Content-Type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "x-ckan-api-key" in preflight.headers["access-control-allow-headers"].lower()
    for path in ("/api/3/action/package_list", "/catalog.jsonld", "/sitemap.xml"):
        r = client.get(path, headers=origin)
        assert r.headers["access-control-allow-origin"] == "*", path
        assert "x-ratelimit-remaining" in r.headers["access-control-expose-headers"].lower()
    page = client.get("/datasets", headers=origin)
    assert "access-control-allow-origin" not in page.headers
    staff = client.options(
        "/developers/keys", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in staff.headers


def test_metadata_gets_an_etag_and_a_copy_held_gets_304(
    client: TestClient, loaded: dict[str, int]
) -> None:
    first = client.get("/catalog.jsonld")
    tag = first.headers["etag"]
    again = client.get("/catalog.jsonld", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    other = client.get("/catalog.jsonld", headers={"If-None-Match": 'W/"stale"'})
    assert other.status_code == 200 and other.content == first.content
    api = client.get("/api/3/action/package_show?id=geo_address")
    cached = client.get(
        "/api/3/action/package_show?id=geo_address", headers={"If-None-Match": api.headers["etag"]}
    )
    assert cached.status_code == 304


def test_downloads_carry_validators_known_before_the_file_is_made(
    client: TestClient, loaded: dict[str, int]
) -> None:
    r = client.get("/datasets/geo_address/download.csv")
    assert r.status_code == 200 and r.headers["etag"].startswith('W/"')
    assert r.headers["last-modified"].endswith("GMT")
    by_tag = client.get(
        "/datasets/geo_address/download.csv", headers={"If-None-Match": r.headers["etag"]}
    )
    assert by_tag.status_code == 304 and by_tag.content == b""
    by_date = client.get(
        "/datasets/geo_address/download.csv",
        headers={"If-Modified-Since": r.headers["last-modified"]},
    )
    assert by_date.status_code == 304
    json_tag = client.get("/datasets/geo_address/download.json").headers["etag"]
    assert json_tag != r.headers["etag"]  # one validator per representation
    old = client.get(
        "/datasets/geo_address/download.csv",
        headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
    )
    assert old.status_code == 200 and old.content == r.content


def test_text_is_gzipped_and_parquet_is_not(client: TestClient, loaded: dict[str, int]) -> None:
    gz = {"Accept-Encoding": "gzip"}
    catalog = client.get("/catalog.jsonld", headers=gz)
    assert catalog.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in catalog.headers["vary"]
    csv = client.get("/datasets/geo_address/download.csv", headers=gz)
    assert csv.headers["content-encoding"] == "gzip" and csv.text.startswith("\ufeff")
    parquet = client.get("/datasets/geo_address/download.parquet", headers=gz)
    assert "content-encoding" not in parquet.headers and parquet.content[:4] == b"PAR1"


def test_a_client_asking_one_at_a_time_never_hits_the_api_quota_but_a_swarm_does(
    client: TestClient, city: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A one-second window with the production ratio (budget 1.5 windows): a sequential
    # client cannot use more server time than wall time, whatever the machine's speed.
    monkeypatch.setattr(web, "API_WINDOW_S", 1)
    monkeypatch.setattr(web, "API_BUDGET_MS", 1500)
    until = time.monotonic() + 2.5
    statuses = []
    while time.monotonic() < until:
        statuses.append(client.get("/api/3/action/package_search?rows=1").status_code)
    assert set(statuses) == {200} and len(statuses) > 5

    # Five requests in flight at once for 0.4 s each: 2 s of server time in a 1 s window.
    # (Held open here, as threads would, since the test's database is one connection.)
    scope = {"type": "http", "app": client.app, "client": ("testclient", 50000), "headers": []}
    swarm = [web.api_meter(Request(scope)) for _ in range(5)]
    time.sleep(max(0.0, 1.05 - time.time() % 1))  # all five in one window
    for meter in swarm:
        next(meter)
    time.sleep(0.4)
    for meter in swarm:
        next(meter, None)  # ends the request: charges its time
    refused = client.get("/api/3/action/package_search?rows=1")
    assert refused.status_code == 429
    assert refused.json()["error"]["__type"] == "Rate Limit Error"


def test_downloads_are_limited_by_bytes_not_by_count(
    client: TestClient, loaded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "DOWNLOAD_BUDGET_BYTES", 4000)
    small = [client.get("/datasets/macro_indicator.jsonld") for _ in range(3)]  # API, not bytes
    assert {r.status_code for r in small} == {200}
    whole = client.get("/datasets/geo_address/download.csv")
    assert whole.status_code == 200 and len(whole.content) > 4000  # never cut off midway
    assert whole.headers["x-ratelimit-limit"] == "4000"
    refused = client.get("/datasets/macro_indicator/download.csv")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
