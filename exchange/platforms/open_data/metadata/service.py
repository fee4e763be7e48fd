"""Machine-readable metadata: DCAT-AP 3 JSON-LD, schema.org `Dataset`, the sitemap.

The JSON-LD carries its context inline (no network needed to read it) and uses the EU
vocabularies DCAT-AP names for themes, frequencies, file types and access rights.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from exchange.core import divisions
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
    "dcatap": "http://data.europa.eu/r5r/",
    "geo": "http://www.opengis.net/ont/geosparql#",
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


def _ref(url: str) -> dict[str, str]:
    return {"@id": url}


def _when(value: Any) -> dict[str, str] | None:
    text = iso(value)
    return {"@value": text, "@type": "xsd:dateTime"} if text else None


def _place(node_code: str) -> dict[str, Any]:
    d = divisions.get(node_code)
    place: dict[str, Any] = {
        "@type": "dct:Location",
        "skos:prefLabel": _zh(d.name if d else node_code),
        "dct:identifier": node_code,
    }
    if d and d.longitude is not None:
        place["dcat:centroid"] = {
            "@value": f"POINT({d.longitude} {d.latitude})",
            "@type": "geo:wktLiteral",
        }
    return place


def dcat_dataset(card: Card, base: str, temporal: tuple[str, str] | None = None) -> dict[str, Any]:
    r = card.resource
    page = f"{base}/datasets/{r.code}"
    dept = r.provider
    licence = LICENCES.get(r.licence or "")
    node: dict[str, Any] = {
        "@id": page,
        "@type": "dcat:Dataset",
        "dct:identifier": r.identifier or r.code,
        "dct:title": _zh(r.title),
        "dct:description": _zh(r.abstract),
        "dcat:keyword": [_zh(t) for t in r.tags],
        "dct:publisher": {
            "@id": f"{base}/organizations/{dept.code.lower()}",
            "@type": "foaf:Agent",
            "foaf:name": _zh(dept.name),
        },
        "dcat:contactPoint": {
            "@type": "vcard:Organization",
            "vcard:fn": dept.name,
            "vcard:hasURL": _ref(f"{page}#feedback"),
        },
        "dcat:theme": _ref(f"{EU}/data-theme/{THEMES.get(r.topic or '', 'GOVE')}"),
        "dct:spatial": _place(dept.node_code),
        "dct:accrualPeriodicity": _ref(f"{EU}/frequency/{FREQUENCIES[r.update_cycle]}"),
        "dct:issued": _when(r.published_at),
        "dcat:landingPage": _ref(page),
        "dct:accessRights": _ref(f"{EU}/access-right/{'PUBLIC' if card.open else 'RESTRICTED'}"),
        "dcat:distribution": _distributions(card, base, licence[1] if licence else None),
    }
    if r.last_updated_at:
        node["dct:modified"] = _when(r.last_updated_at)
    if temporal:
        node["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": temporal[0],
            "dcat:endDate": temporal[1],
        }
    return node


def _distributions(card: Card, base: str, licence_url: str | None) -> list[dict[str, Any]]:
    r = card.resource
    page = f"{base}/datasets/{r.code}"
    if not card.open:
        url = access.RESTRICTED_ACCESS.application_url(r.code)
        return [
            {
                "@type": "dcat:Distribution",
                "dct:title": _zh("申请使用"),
                "dct:description": _zh("受限开放：经申请并签署协议、由提供部门审核通过后提供。"),
                "dcat:accessURL": _ref(url if url.startswith("http") else base + url),
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
            "dct:format": _ref(f"{EU}/file-type/{FILE_TYPES[fmt]}"),
            "dcat:mediaType": _ref(
                f"https://www.iana.org/assignments/media-types/{MEDIA_TYPES[fmt]}"
            ),
            "dcatap:availability": _ref(f"{EU}/planned-availability/STABLE"),
        }
        if licence_url:
            dist["dct:license"] = _ref(licence_url)
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
                **({"dct:license": _ref(licence_url)} if licence_url else {}),
            }
        )
    return out


def dcat_catalog(
    cards: Sequence[Card], base: str, node_name: str, node_code: str
) -> dict[str, Any]:
    updates = [c.resource.last_updated_at for c in cards if c.resource.last_updated_at]
    catalog: dict[str, Any] = {
        "@id": f"{base}/catalog",
        "@type": "dcat:Catalog",
        "dct:title": [
            _zh(f"{node_name}公共数据开放平台"),
            {"@value": f"{node_name} Open Data", "@language": "en"},
        ],
        "dct:description": _zh(f"{node_name}各部门无条件开放与受限开放的公共数据目录。"),
        "dct:publisher": {
            "@id": f"{base}/#publisher",
            "@type": "foaf:Agent",
            "foaf:name": _zh(f"{node_name}大数据管理局"),
        },
        "foaf:homepage": _ref(f"{base}/"),
        "dct:language": _ref(f"{EU}/language/ZHO"),
        "dct:spatial": _place(node_code),
        "dcat:dataset": [dcat_dataset(c, base) for c in cards],
    }
    if updates:
        catalog["dct:modified"] = _when(max(updates))
    return {"@context": CONTEXT, "@graph": [catalog]}


def with_context(node: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, **node}


def schema_org(card: Card, base: str, temporal: tuple[str, str] | None = None) -> str:
    """The dataset as search engines read it, as text safe inside a <script> element."""
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
        "isAccessibleForFree": True,
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
