import json
import re

import pytest
from fastapi.testclient import TestClient

from exchange.core.settings import Settings
from tests.platforms.open_data.conftest import ADDRESSES

pytestmark = pytest.mark.both_backends


def preview_rows(html: str) -> list[str]:
    body = html.split('<table id="preview-table">', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr><td>([^<]*)</td>", body)


def link(html: str, element_id: str) -> str | None:
    m = re.search(rf'id="{element_id}" href="([^"]+)"', html)
    return m.group(1).replace("&amp;", "&") if m else None


def test_dataset_page_describes_the_dataset(client: TestClient, loaded: dict[str, int]) -> None:
    page = client.get("/datasets/macro_indicator")
    assert page.status_code == 200
    html = page.text
    assert "宏观经济指标" in html and "地区生产总值" in html  # title and abstract
    assert 'id="licence">CC-BY-4.0' in html
    assert "每月" in html and 'id="last-updated">20' in html
    assert 'id="dictionary"' in html and "<code>period</code>" in html
    assert re.search(r'id="quality-score">\d+</span>/100', html)
    assert 'id="overdue"' not in html  # just loaded
    for fmt in ("csv", "json", "parquet"):
        assert f"/datasets/macro_indicator/download.{fmt}" in html
    assert "download.geojson" not in html  # no coordinates
    assert '<svg viewBox="0 0 640 260" role="img"' in html and "polyline" in html  # chart
    assert "杭州市" in html  # division codes shown with their names
    assert "<dd>基础信息资源类 / 宏观经济</dd>" in html  # the classification's path, not "105"
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert ld is not None
    doc = json.loads(ld.group(1))
    assert doc["@type"] == "Dataset" and doc["name"] == "宏观经济指标"
    assert doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert {d["encodingFormat"] for d in doc["distribution"]} >= {"text/csv"}
    assert re.fullmatch(r"\d{4}/\d{4}(-\d\d|Q\d)?", doc["temporalCoverage"])


def test_geospatial_datasets_get_a_map_and_geojson(
    client: TestClient, loaded: dict[str, int]
) -> None:
    html = client.get("/datasets/geo_address").text
    assert 'class="chart map"' in html
    assert html.count('class="pt"') == ADDRESSES
    assert "西湖区" in html  # district centres as landmarks
    assert "/datasets/geo_address/download.geojson" in html
    divisions = client.get("/datasets/geo_division").text
    assert 'class="chart map"' in divisions and ">西湖区</text>" in divisions


def test_personal_fields_are_neither_previewed_nor_described_as_served(
    client: TestClient, loaded: dict[str, int]
) -> None:
    html = client.get("/datasets/legal_person").text
    assert "legal_rep_id_number" not in html and "legal_rep_name" not in html
    assert "不予开放" in html and "法定代表人" in html  # listed by title as withheld


def test_preview_pages_by_key_forward_and_back(client: TestClient, loaded: dict[str, int]) -> None:
    first = client.get("/datasets/geo_address?size=50")
    rows1 = preview_rows(first.text)
    assert len(rows1) == 50 and rows1 == sorted(rows1)
    assert link(first.text, "preview-prev") is None
    second = client.get(link(first.text, "preview-next"))
    rows2 = preview_rows(second.text)
    assert len(rows2) == 50 and rows2[0] > rows1[-1]
    third = client.get(link(second.text, "preview-next"))
    rows3 = preview_rows(third.text)
    assert len(rows3) == ADDRESSES - 100 and link(third.text, "preview-next") is None
    back = client.get(link(third.text, "preview-prev"))
    assert preview_rows(back.text) == rows2
    back_again = client.get(link(back.text, "preview-prev"))
    assert preview_rows(back_again.text) == rows1
    assert link(back_again.text, "preview-prev") is None
    assert "约 120 行" in first.text  # the catalogue's count, not a count(*)


def test_bad_preview_input_is_a_400_page_naming_it(
    client: TestClient, loaded: dict[str, int]
) -> None:
    bad = client.get("/datasets/geo_address?after=%%%")
    assert bad.status_code == 400 and "text/html" in bad.headers["content-type"]
    assert "after: not a cursor of this dataset" in bad.text
    wrong_arity = client.get("/datasets/macro_indicator?after=WyJhIl0")  # ["a"]
    assert wrong_arity.status_code == 400 and "after" in wrong_arity.text
    size = client.get("/datasets/geo_address?size=5000")
    assert size.status_code == 422 and "size" in size.text


def test_restricted_dataset_shows_how_to_apply_and_no_data(
    client: TestClient, loaded: dict[str, int]
) -> None:
    page = client.get("/datasets/credit_record")
    assert page.status_code == 200
    assert 'id="restricted"' in page.text
    assert "/sharing/v1/applications/new?resource=credit_record&amp;audience=public" in page.text
    assert 'id="preview-table"' not in page.text and "download.csv" not in page.text


def test_closed_and_unknown_datasets_are_not_found(client: TestClient, city: None) -> None:
    for code in ("population", "material", "no_such_thing"):
        page = client.get(f"/datasets/{code}")
        assert page.status_code == 404, code
        assert "is not an open dataset" in page.text


def test_api_page_has_copyable_examples(
    client: TestClient, loaded: dict[str, int], settings: Settings
) -> None:
    page = client.get("/datasets/macro_indicator/api")
    assert page.status_code == 200
    base = settings.base_url
    assert f"curl '{base}/api/3/action/datastore_search?resource_id=macro_indicator" in page.text
    assert f'ckanapi.RemoteCKAN("{base}")' in page.text
    assert f"{base}/datasets/macro_indicator/download.parquet" in page.text


def test_search_page_shows_facets_and_filters(client: TestClient, loaded: dict[str, int]) -> None:
    page = client.get("/datasets", params={"q": "地址"})
    assert page.status_code == 200
    codes = re.findall(r'data-code="([a-z_]+)"', page.text)
    assert codes[0] == "geo_address"
    assert 'data-facet="format" data-value="geojson"' in page.text
    narrowed = client.get("/datasets", params=[("format", "geojson"), ("provider", "ZRZY")])
    assert set(re.findall(r'data-code="([a-z_]+)"', narrowed.text)) == {
        "geo_address",
        "geo_division",
    }
    bad = client.get("/datasets", params={"sort": "random"})
    assert bad.status_code == 400 and "sort: use one of" in bad.text


def test_a_visitor_picks_another_series_and_unknown_ones_get_the_default(
    client: TestClient, loaded: dict[str, int]
) -> None:
    default = client.get("/datasets/macro_indicator").text
    picked = client.get("/datasets/macro_indicator?series=GDP|330106000000").text
    assert "图表 · GDP · 西湖区" in picked
    unknown = client.get("/datasets/macro_indicator?series=nonsense")
    assert unknown.status_code == 200
    title = re.search(r"<h2>图表 · ([^<]+)</h2>", default)
    assert title is not None and f"图表 · {title.group(1)}" in unknown.text


def schema_org_of(html: str) -> dict:
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert ld is not None
    return json.loads(ld.group(1))


def test_schema_org_names_variables_and_catalogue_and_never_frees_restricted_data(
    client: TestClient, loaded: dict[str, int]
) -> None:
    doc = schema_org_of(client.get("/datasets/macro_indicator").text)
    assert doc["isAccessibleForFree"] is True
    assert doc["includedInDataCatalog"]["@type"] == "DataCatalog"
    assert doc["includedInDataCatalog"]["url"].endswith("/catalog")
    measured = {v["propertyID"]: v for v in doc["variableMeasured"]}
    assert {"indicator", "period"} <= set(measured) and measured["period"]["name"] == "统计期"
    restricted = schema_org_of(client.get("/datasets/credit_record").text)
    assert "isAccessibleForFree" not in restricted and "distribution" in restricted
    assert restricted["distribution"] == []
