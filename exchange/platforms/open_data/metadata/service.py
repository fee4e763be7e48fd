"""Machine-readable metadata: DCAT-AP 3 JSON-LD, schema.org `Dataset`, the sitemap.

The JSON-LD carries its context inline (no network needed to read it) and uses the EU
vocabularies DCAT-AP names for themes, frequencies, file types and access rights.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from exchange.core import divisions
from exchange.core.resource_schema import FieldSpec
from exchange.platforms.open_data import access
from exchange.platforms.open_data.ckan.dicts import LICENCES, MEDIA_TYPES, iso
from exchange.platforms.open_data.portal.service import Card

EU = "http://publications.europa.eu/resource/authority"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "dcatap": "http://data.europa.eu/r5r/",
    "geo": "http://www.opengis.net/ont/geosparql#",
}
ADMS_PUBLISHER = "http://purl.org/adms/publishertype"
ADMS_LICENCE = "http://purl.org/adms/licencetype"
# The English labels those vocabularies give their terms and schemes.
LABELS = {
    "data-theme": "Data theme",
    "planned-availability": "Planned availability",
    "publishertype": "Publisher type",
    "licencetype": "Licence type",
    "ECON": "Economy and finance",
    "REGI": "Regions and cities",
    "JUST": "Justice, legal system and public safety",
    "SOCI": "Population and society",
    "GOVE": "Government and public sector",
    "STABLE": "stable",
    "LocalAuthority": "Local Authority",
    "Attribution": "Attribution",
    "PublicDomain": "Public domain",
    "ShareAlike": "Share alike",
    "NonCommercialUseOnly": "Non-commercial use only",
}
LICENCE_TYPES = {
    "CC-BY-4.0": "Attribution",
    "CC-BY-SA-4.0": "ShareAlike",
    "CC0-1.0": "PublicDomain",
    "ODbL-1.0": "ShareAlike",
}
THEMES = {"经济": "ECON", "法人": "ECON", "空间地理": "REGI", "信用": "JUST", "人口": "SOCI"}
FREQUENCIES = {
    "realtime": "UPDATE_CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
}
FILE_TYPES = {"CSV": "CSV", "JSON": "JSON", "Parquet": "PARQUET", "GeoJSON": "GEOJSON"}


def _zh(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "zh"}


def _ref(url: str, *classes: str) -> dict[str, Any]:
    """An IRI, typed: DCAT-AP's range shapes check each value's class, and a harvester
    without the vocabularies loaded must still see a licence is a dct:LicenseDocument."""
    return {"@id": url, "@type": list(classes)} if classes else {"@id": url}


def _concept(url: str, scheme: str) -> dict[str, Any]:
    """A term of an EU / ADMS vocabulary with its label and scheme, as the shapes ask."""
    return {
        "@id": url,
        "@type": "skos:Concept",
        "skos:prefLabel": {"@value": LABELS[url.rsplit("/", 1)[1]], "@language": "en"},
        "skos:inScheme": {
            "@id": scheme,
            "@type": "skos:ConceptScheme",
            "dct:title": {"@value": LABELS[scheme.rsplit("/", 1)[1]], "@language": "en"},
        },
    }


def _when(value: Any) -> dict[str, str] | None:
    """An xsd:dateTime with its zone (UTC): a harvester must not have to guess it."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = aware.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return {"@value": text, "@type": "xsd:dateTime"}


def _day(text: str, *, end: bool = False) -> dict[str, str] | str:
    """A period's bound as the data gives it: a year, a quarter (as its first or last
    month), a month or a day; anything else stays a plain string."""
    if re.fullmatch(r"\d{4}", text):
        return {"@value": text, "@type": "xsd:gYear"}
    quarter = re.fullmatch(r"(\d{4})Q([1-4])", text)
    if quarter:
        month = int(quarter[2]) * 3 - (0 if end else 2)
        return {"@value": f"{quarter[1]}-{month:02d}", "@type": "xsd:gYearMonth"}
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return {"@value": text, "@type": "xsd:gYearMonth"}
    if re.match(r"\d{4}-\d{2}-\d{2}", text):
        return {"@value": text[:10], "@type": "xsd:date"}
    return text


def division_iri(code: str) -> str:
    # GB/T 2260 has no published IRIs; a URN names the code without pretending to resolve.
    return f"urn:gb-t-2260:{code}"


def _bbox(code: str) -> str | None:
    """The box around the division's own centre and its children's centres (cpca ships
    centres, not boundaries), widened by 0.05° so a district's box is not a point."""
    d = divisions.get(code)
    points = [(x.longitude, x.latitude) for x in [d, *divisions.children_of(code)] if x]
    known = [(lon, lat) for lon, lat in points if lon is not None and lat is not None]
    if not known:
        return None
    west = min(lon for lon, _ in known) - 0.05
    east = max(lon for lon, _ in known) + 0.05
    south = min(lat for _, lat in known) - 0.05
    north = max(lat for _, lat in known) + 0.05
    ring = f"{west:.4f} {south:.4f}, {east:.4f} {south:.4f}, {east:.4f} {north:.4f}, "
    ring += f"{west:.4f} {north:.4f}, {west:.4f} {south:.4f}"
    return f"POLYGON(({ring}))"


def _place(node_code: str) -> dict[str, Any]:
    d = divisions.get(node_code)
    place: dict[str, Any] = {
        "@id": division_iri(node_code),
        "@type": "dct:Location",
        "skos:prefLabel": _zh(d.name if d else node_code),
        "dct:identifier": node_code,
    }
    if d and d.longitude is not None:
        place["dcat:centroid"] = {
            "@value": f"POINT({d.longitude} {d.latitude})",
            "@type": "geo:wktLiteral",
        }
    box = _bbox(node_code)
    if box:
        place["dcat:bbox"] = {"@value": box, "@type": "geo:wktLiteral"}
    return place


def _agent(iri: str, name: str) -> dict[str, Any]:
    return {
        "@id": iri,
        "@type": "foaf:Agent",
        "foaf:name": _zh(name),
        "dct:type": _concept(f"{ADMS_PUBLISHER}/LocalAuthority", ADMS_PUBLISHER),
    }


def _licence(code: str | None) -> dict[str, Any] | None:
    licence = LICENCES.get(code or "")
    if not licence:
        return None
    kind = LICENCE_TYPES[code or ""]
    return {
        "@id": licence[1],
        "@type": "dct:LicenseDocument",
        "dct:type": _concept(f"{ADMS_LICENCE}/{kind}", ADMS_LICENCE),
    }


def _agreement(page: str) -> dict[str, Any]:
    """A restricted dataset's terms: the agreement signed with the application."""
    return {
        "@id": f"{page}#agreement",
        "@type": "dct:LicenseDocument",
        "rdfs:label": _zh("受限开放数据使用协议（申请时签署，由提供部门审核）"),
        "dct:type": _concept(f"{ADMS_LICENCE}/NonCommercialUseOnly", ADMS_LICENCE),
    }


def _period(start: str, end: str) -> dict[str, Any]:
    return {
        "@type": "dct:PeriodOfTime",
        "dcat:startDate": _day(start),
        "dcat:endDate": _day(end, end=True),
    }


def _coverage(card: Card, temporal: tuple[str, str] | None) -> dict[str, Any] | None:
    """What the rows cover when the data has a period field; else the span over which the
    provider has published it (publication to last batch)."""
    if temporal:
        return _period(*temporal)
    r = card.resource
    first, last = r.published_at, r.last_updated_at or r.published_at
    if first is None or last is None:
        return None
    return _period(first.date().isoformat(), max(first, last).date().isoformat())


def dcat_dataset(card: Card, base: str, temporal: tuple[str, str] | None = None) -> dict[str, Any]:
    r = card.resource
    page = f"{base}/datasets/{r.code}"
    dept = r.provider
    node: dict[str, Any] = {
        "@id": page,
        "@type": "dcat:Dataset",
        "dct:identifier": r.identifier or r.code,
        "dct:title": _zh(r.title),
        "dct:description": _zh(r.abstract),
        "dcat:keyword": [_zh(t) for t in r.tags],
        "dct:publisher": _agent(f"{base}/organizations/{dept.code.lower()}", dept.name),
        "dcat:contactPoint": {
            "@type": ["vcard:Organization", "vcard:Kind"],
            "vcard:fn": dept.name,
            "vcard:hasURL": _ref(f"{page}#feedback"),
        },
        "dcat:theme": _concept(
            f"{EU}/data-theme/{THEMES.get(r.topic or '', 'GOVE')}", f"{EU}/data-theme"
        ),
        "dct:spatial": _place(dept.node_code),
        "dct:accrualPeriodicity": _ref(
            f"{EU}/frequency/{FREQUENCIES[r.update_cycle]}", "dct:Frequency"
        ),
        "dct:issued": _when(r.published_at),
        "dcat:landingPage": _ref(page, "foaf:Document"),
        "dct:accessRights": _ref(
            f"{EU}/access-right/{'PUBLIC' if card.open else 'RESTRICTED'}", "dct:RightsStatement"
        ),
        "dcat:distribution": _distributions(card, base),
    }
    if r.last_updated_at:
        node["dct:modified"] = _when(r.last_updated_at)
    coverage = _coverage(card, temporal)
    if coverage:
        node["dct:temporal"] = coverage
    return node


def _availability() -> dict[str, Any]:
    return _concept(f"{EU}/planned-availability/STABLE", f"{EU}/planned-availability")


def _file_type(name: str) -> dict[str, Any]:
    return _ref(f"{EU}/file-type/{name}", "dct:MediaTypeOrExtent")


def _distributions(card: Card, base: str) -> list[dict[str, Any]]:
    r = card.resource
    page = f"{base}/datasets/{r.code}"
    licence = _licence(r.licence)
    with_licence = {"dct:license": licence} if licence else {}
    if not card.open:
        with_licence = {"dct:license": licence or _agreement(page)}
        url = access.RESTRICTED_ACCESS.application_url(r.code)
        return [
            {
                "@type": "dcat:Distribution",
                "dct:title": _zh("申请使用"),
                "dct:description": _zh("受限开放：经申请并签署协议、由提供部门审核通过后提供。"),
                "dcat:accessURL": _ref(url if url.startswith("http") else base + url),
                "dct:format": _file_type("HTML"),
                "dcatap:availability": _availability(),
                **with_licence,
            }
        ]
    out = []
    for fmt in card.formats:
        dist: dict[str, Any] = {
            "@id": f"{page}/download.{fmt.lower()}#distribution",
            "@type": "dcat:Distribution",
            "dct:title": _zh(f"{r.title}（{fmt}）"),
            "dct:description": _zh(f"全量数据，{fmt} 格式，不限行数。"),
            "dcat:accessURL": _ref(page),
            "dcat:downloadURL": _ref(f"{page}/download.{fmt.lower()}"),
            "dct:format": _file_type(FILE_TYPES[fmt]),
            "dcat:mediaType": _ref(
                f"https://www.iana.org/assignments/media-types/{MEDIA_TYPES[fmt]}",
                "dct:MediaType",
            ),
            "dcatap:availability": _availability(),
            **with_licence,
        }
        out.append(dist)
    if card.formats:
        out.append(
            {
                "@id": f"{page}/api#distribution",
                "@type": "dcat:Distribution",
                "dct:title": _zh("数据接口（CKAN datastore_search）"),
                "dct:description": _zh("按条件查询、分页的数据接口，兼容 CKAN Action API。"),
                "dcat:accessURL": _ref(
                    f"{base}/api/3/action/datastore_search?resource_id={r.code}"
                ),
                "dcat:accessService": _ref(f"{base}/api/3/action", "dcat:DataService"),
                "dct:format": _file_type("JSON"),
                "dcatap:availability": _availability(),
                **with_licence,
            }
        )
    return out


def data_service(cards: Sequence[Card], base: str, node_name: str) -> dict[str, Any]:
    """The APIs as a dcat:DataService: the CKAN Action API and the DCAT files, serving every
    open dataset."""
    return {
        "@id": f"{base}/api/3/action",
        "@type": "dcat:DataService",
        "dct:title": [
            _zh("公共数据开放接口（CKAN Action API）"),
            {"@value": f"{node_name} open data API (CKAN Action API)", "@language": "en"},
        ],
        "dct:description": _zh("数据集检索、元数据与按条件查询数据的接口，兼容 CKAN 2.10。"),
        "dcat:endpointURL": _ref(f"{base}/api/3/action/"),
        "dcat:endpointDescription": _ref(f"{base}/openapi.json"),
        "dct:conformsTo": _ref("https://docs.ckan.org/en/2.10/api/", "dct:Standard"),
        "dct:accessRights": _ref(f"{EU}/access-right/PUBLIC", "dct:RightsStatement"),
        "dct:license": _licence("CC-BY-4.0"),
        "dct:publisher": _agent(f"{base}/#publisher", f"{node_name}大数据管理局"),
        "dcat:contactPoint": {
            "@type": ["vcard:Organization", "vcard:Kind"],
            "vcard:fn": f"{node_name}大数据管理局",
            "vcard:hasURL": _ref(f"{base}/developers"),
        },
        "dcat:keyword": [_zh("开放数据"), _zh("接口"), {"@value": "CKAN", "@language": "en"}],
        "dcat:theme": _concept(f"{EU}/data-theme/GOVE", f"{EU}/data-theme"),
        "dcat:servesDataset": [
            _ref(f"{base}/datasets/{c.resource.code}") for c in cards if c.open and c.formats
        ],
    }


def dcat_catalog(
    cards: Sequence[Card],
    base: str,
    node_name: str,
    node_code: str,
    temporal: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """`temporal`: the period each dataset's rows cover, where known (by code)."""
    spans = temporal or {}
    updates = [c.resource.last_updated_at for c in cards if c.resource.last_updated_at]
    issued = [c.resource.published_at for c in cards if c.resource.published_at]
    catalog: dict[str, Any] = {
        "@id": f"{base}/catalog",
        "@type": "dcat:Catalog",
        "dct:title": [
            _zh(f"{node_name}公共数据开放平台"),
            {"@value": f"{node_name} Open Data", "@language": "en"},
        ],
        "dct:description": _zh(f"{node_name}各部门无条件开放与受限开放的公共数据目录。"),
        "dct:publisher": _agent(f"{base}/#publisher", f"{node_name}大数据管理局"),
        "foaf:homepage": _ref(f"{base}/", "foaf:Document"),
        "dct:language": _ref(f"{EU}/language/ZHO", "dct:LinguisticSystem"),
        "dct:license": _licence("CC-BY-4.0"),
        "dct:spatial": _place(node_code),
        "dcat:themeTaxonomy": _ref(f"{EU}/data-theme", "skos:ConceptScheme"),
        "dcat:dataset": [dcat_dataset(c, base, spans.get(c.resource.code)) for c in cards],
        "dcat:service": data_service(cards, base, node_name),
    }
    if issued:
        catalog["dct:issued"] = _when(min(issued))
    if updates:
        catalog["dct:modified"] = _when(max(updates))
    return {"@context": CONTEXT, "@graph": [catalog]}


def dataset_document(
    card: Card, base: str, node_name: str, temporal: tuple[str, str] | None = None
) -> dict[str, Any]:
    """One dataset's own DCAT-AP document: the dataset and the API service it is served by,
    so the document stands alone."""
    nodes = [dcat_dataset(card, base, temporal)]
    if card.open and card.formats:
        nodes.append(data_service([card], base, node_name))
    return {"@context": CONTEXT, "@graph": nodes}


def schema_org(
    card: Card,
    base: str,
    temporal: tuple[str, str] | None = None,
    *,
    variables: Sequence[FieldSpec] = (),
    catalog_name: str | None = None,
) -> str:
    """The dataset as search engines read it, as text safe inside a <script> element.

    `variables`: the fields served (variableMeasured). A restricted dataset is not claimed
    free to access: it is served only after an approved application."""
    r = card.resource
    page = f"{base}/datasets/{r.code}"
    licence = LICENCES.get(r.licence or "")
    d = divisions.get(r.provider.node_code)
    org = {"@type": "GovernmentOrganization", "name": r.provider.name}
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": r.title,
        "description": r.abstract,
        "url": page,
        "identifier": r.identifier or r.code,
        "keywords": list(r.tags),
        "inLanguage": "zh-CN",
        "creator": org,
        "publisher": org,
        "datePublished": iso(r.published_at),
        "dateModified": iso(r.last_updated_at or r.published_at),
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": MEDIA_TYPES[fmt],
                "contentUrl": f"{page}/download.{fmt.lower()}",
            }
            for fmt in card.formats
        ],
    }
    if card.open:
        doc["isAccessibleForFree"] = True
    if catalog_name:
        doc["includedInDataCatalog"] = {
            "@type": "DataCatalog",
            "name": catalog_name,
            "url": f"{base}/catalog",
        }
    if variables:
        doc["variableMeasured"] = [
            {
                "@type": "PropertyValue",
                "name": f.title or f.name,
                "propertyID": f.name,
                **({"description": f.description} if f.description else {}),
            }
            for f in variables
        ]
    if licence:
        doc["license"] = licence[1]
    if d is not None:
        doc["spatialCoverage"] = {
            "@type": "Place",
            "name": d.name,
            "geo": {"@type": "GeoCoordinates", "latitude": d.latitude, "longitude": d.longitude},
        }
    if temporal:
        doc["temporalCoverage"] = f"{temporal[0]}/{temporal[1]}"
    return json.dumps(doc, ensure_ascii=False).replace("</", "<\\/")


def sitemap(base: str, entries: Iterable[tuple[str, Any]]) -> str:
    """`entries`: (path, last modified or None)."""
    urls = []
    for path, modified in entries:
        lastmod = f"<lastmod>{modified.date().isoformat()}</lastmod>" if modified else ""
        urls.append(f"<url><loc>{escape(base + path)}</loc>{lastmod}</url>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(urls)
        + "\n</urlset>\n"
    )


# -- other RDF serialisations and content negotiation ---------------------------------------
RDF_FORMATS = {  # extension: (media type, rdflib format)
    "jsonld": ("application/ld+json", "json-ld"),
    "ttl": ("text/turtle", "turtle"),
    "rdf": ("application/rdf+xml", "xml"),
}
_BY_MEDIA = {media: ext for ext, (media, _) in RDF_FORMATS.items()} | {
    "application/json": "jsonld",
    "application/x-turtle": "ttl",
    "application/xml": "rdf",
    "text/xml": "rdf",
}


def serialise(doc: dict[str, Any], ext: str) -> bytes:
    """The JSON-LD document in another RDF syntax (the same graph, read by rdflib)."""
    body = json.dumps(doc, ensure_ascii=False)
    if ext == "jsonld":
        return body.encode()
    from rdflib import Graph  # heavy import, only for the other syntaxes

    graph = Graph()
    graph.bind("dcat", CONTEXT["dcat"])
    graph.bind("dct", CONTEXT["dct"])
    graph.bind("foaf", CONTEXT["foaf"])
    graph.bind("vcard", CONTEXT["vcard"])
    graph.bind("dcatap", CONTEXT["dcatap"])
    graph.parse(data=body, format="json-ld")
    return graph.serialize(format=RDF_FORMATS[ext][1], encoding="utf-8")


def negotiate(accept: str | None, default: str | None) -> str | None:
    """The RDF extension an Accept header prefers (by q-value; of equal ones, the first),
    else `default`; None when HTML is preferred (browsers, which list text/html first)."""
    best: tuple[float, int, str | None] = (0.0, 0, default)
    for i, part in enumerate((accept or "").split(",")):
        media, *options = (p.strip() for p in part.split(";"))
        q = 1.0
        for opt in options:
            if opt.startswith("q="):
                try:
                    q = float(opt[2:])
                except ValueError:
                    q = 0.0
        ext = "html" if media in ("text/html", "application/xhtml+xml") else _BY_MEDIA.get(media)
        if ext and (q, -i) > best[:2]:
            best = (q, -i, ext)
    return None if best[2] == "html" else best[2]
