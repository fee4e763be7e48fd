"""DCAT-AP 3 in full: the official SEMIC 3.0.1 SHACL shapes (mandatory, recommended, range)
with zero violations, in every RDF syntax we serve, and content negotiation."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, XSD

SHAPES = Path(__file__).parent / "shacl"
FORMATS = {"jsonld": "json-ld", "ttl": "turtle", "rdf": "xml"}


@pytest.fixture(scope="module")
def shapes() -> Graph:
    g = Graph()
    for name in ("shapes.ttl", "shapes_recommended.ttl", "range.ttl"):
        g.parse(SHAPES / name, format="turtle")
    return g


def violations(data: Graph, shapes: Graph) -> list[str]:
    conforms, _, text = validate(data, shacl_graph=shapes, advanced=True, inference="none")
    if conforms:
        return []
    return [line for line in text.splitlines() if line.strip()][:80]


@pytest.mark.parametrize("ext", list(FORMATS))
def test_catalogue_passes_the_semic_shapes_in_every_syntax(
    client: TestClient, loaded: dict[str, int], shapes: Graph, ext: str
) -> None:
    r = client.get(f"/catalog.{ext}")
    assert r.status_code == 200
    g = Graph().parse(data=r.content, format=FORMATS[ext])
    assert len(g) > 100
    assert violations(g, shapes) == []


def test_dataset_documents_pass_the_shapes(
    client: TestClient, loaded: dict[str, int], shapes: Graph
) -> None:
    for code in ("macro_indicator", "credit_record", "geo_address"):
        g = Graph().parse(data=client.get(f"/datasets/{code}.ttl").content, format="turtle")
        assert violations(g, shapes) == [], code


def test_dates_carry_a_zone_and_the_syntaxes_hold_one_graph(
    client: TestClient, loaded: dict[str, int]
) -> None:
    graphs = {
        ext: Graph().parse(data=client.get(f"/catalog.{ext}").content, format=fmt)
        for ext, fmt in FORMATS.items()
    }
    assert len(graphs["ttl"]) == len(graphs["jsonld"]) == len(graphs["rdf"])
    g = graphs["ttl"]
    stamps = list(g.objects(None, DCTERMS.modified))
    assert stamps and all(s.datatype == XSD.dateTime for s in stamps)
    assert all(str(s).endswith("Z") or "+" in str(s) for s in stamps)


def test_content_negotiation_on_the_catalogue_and_each_dataset(
    client: TestClient, loaded: dict[str, int]
) -> None:
    ttl = client.get("/catalog", headers={"Accept": "text/turtle"})
    assert ttl.headers["content-type"].startswith("text/turtle") and "Accept" in ttl.headers["vary"]
    xml = client.get("/catalog", headers={"Accept": "application/rdf+xml;q=0.9, text/html;q=0.5"})
    assert xml.headers["content-type"].startswith("application/rdf+xml")
    default = client.get("/catalog")
    assert default.headers["content-type"].startswith("application/ld+json")
    seen = client.get(
        "/datasets/macro_indicator",
        headers={"Accept": "text/turtle"},
        follow_redirects=False,
    )
    assert seen.status_code == 303 and seen.headers["location"] == "/datasets/macro_indicator.ttl"
    g = Graph().parse(data=client.get(seen.headers["location"]).content, format="turtle")
    assert (None, DCAT.distribution, None) in g
    browser = client.get(
        "/datasets/macro_indicator",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert browser.headers["content-type"].startswith("text/html")
    assert "Accept" in browser.headers["vary"]


def test_a_data_service_describes_the_apis(client: TestClient, loaded: dict[str, int]) -> None:
    g = Graph().parse(data=client.get("/catalog.ttl").content, format="turtle")
    services = list(g.subjects(None, DCAT.DataService))
    assert services
    svc = services[0]
    assert g.value(svc, DCAT.endpointURL) is not None
    assert set(g.objects(svc, DCAT.servesDataset)) >= {
        URIRef(str(d)) for d in g.objects(None, DCAT.dataset) if str(d).endswith("macro_indicator")
    }
