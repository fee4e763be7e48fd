import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from exchange.core.settings import Settings

pytestmark = pytest.mark.both_backends
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
BASE = Settings.model_fields["base_url"].default  # what the `settings` fixture keeps
LISTED = {"credit_record", "geo_address", "geo_division", "legal_person", "macro_indicator"}


def graph(body: bytes) -> Graph:
    return Graph().parse(data=body, format="json-ld")


def test_catalog_jsonld_is_dcat_ap_with_mandatory_and_recommended_properties(
    client: TestClient, loaded: dict[str, int]
) -> None:
    r = client.get("/catalog.jsonld")
    assert r.status_code == 200 and r.headers["content-type"] == "application/ld+json"
    assert "X-RateLimit-Limit" in r.headers
    g = graph(r.content)
    (catalog,) = g.subjects(RDF.type, DCAT.Catalog)
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher):
        assert g.value(catalog, prop) is not None, prop
    datasets = set(g.objects(catalog, DCAT.dataset))
    assert {str(d).rsplit("/", 1)[1] for d in datasets} == LISTED
    for ds in datasets:
        for prop in (DCTERMS.title, DCTERMS.description):  # mandatory
            assert g.value(ds, prop) is not None, (ds, prop)
        for prop in (  # recommended
            DCAT.contactPoint,
            DCAT.distribution,
            DCAT.keyword,
            DCTERMS.publisher,
            DCTERMS.spatial,
            DCAT.theme,
        ):
            assert g.value(ds, prop) is not None, (ds, prop)
        assert g.value(g.value(ds, DCTERMS.publisher), FOAF.name) is not None
        assert g.value(g.value(ds, DCAT.contactPoint), VCARD.fn) is not None
        for dist in g.objects(ds, DCAT.distribution):
            assert g.value(dist, DCAT.accessURL) is not None, dist  # mandatory
            assert g.value(dist, DCTERMS.description) is not None
    address = URIRef(f"{BASE}/datasets/geo_address")
    formats = {str(g.value(d, DCTERMS.format)) for d in g.objects(address, DCAT.distribution)}
    assert "http://publications.europa.eu/resource/authority/file-type/GEOJSON" in formats
    csv_dist = URIRef(f"{BASE}/datasets/geo_address/download.csv#distribution")
    assert str(g.value(csv_dist, DCTERMS.license)).startswith("https://creativecommons.org/")
    assert g.value(csv_dist, URIRef("http://data.europa.eu/r5r/availability")) is not None
    restricted = URIRef(f"{BASE}/datasets/credit_record")
    assert str(g.value(restricted, DCTERMS.accessRights)).endswith("/access-right/RESTRICTED")
    assert "population" not in r.text and "人口基础信息" not in r.text


def test_dataset_jsonld_adds_temporal_coverage(client: TestClient, loaded: dict[str, int]) -> None:
    r = client.get("/datasets/macro_indicator.jsonld")
    g = graph(r.content)
    ds = URIRef(f"{BASE}/datasets/macro_indicator")
    assert g.value(ds, RDF.type) == DCAT.Dataset
    assert str(g.value(ds, DCTERMS.accrualPeriodicity)).endswith("/frequency/MONTHLY")
    period = g.value(ds, DCTERMS.temporal)
    start = g.value(period, DCAT.startDate)
    end = g.value(period, DCAT.endDate)
    assert str(start) == "2019" and str(end) > str(start)
    assert client.get("/datasets/population.jsonld").status_code == 404


def test_sitemap_lists_every_public_dataset_page(client: TestClient, city: None) -> None:
    r = client.get("/sitemap.xml")
    root = ET.fromstring(r.content)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {e.text for e in root.findall("s:url/s:loc", ns)}
    pages = {re.sub(r".*/datasets/", "", u) for u in locs if re.search(r"/datasets/\w+$", u)}
    assert pages == LISTED
    assert f"{BASE}/" in locs
    assert f"Sitemap: {BASE}/sitemap.xml" in client.get("/robots.txt").text


def test_catalog_csv_is_the_whole_catalogue_in_one_file(
    client: TestClient, loaded: dict[str, int]
) -> None:
    r = client.get("/catalog.csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {row["code"] for row in rows} == LISTED
    by_code = {row["code"]: row for row in rows}
    assert by_code["geo_address"]["formats"] == "CSV;JSON;Parquet;GeoJSON"
    assert by_code["macro_indicator"]["row_count"] == str(loaded["macro_indicator"])
    assert by_code["credit_record"]["formats"] == ""
    assert 0 < float(by_code["legal_person"]["quality_score"]) <= 1
