"""Frictionless Data Packages: one per dataset (every download) and one for the catalogue
(each open dataset's CSV), with each table's Table Schema and each file's byte size and
SHA-256, so `frictionless validate` checks a download against its description.

A file's size and hash are known only once it has been written out, so they are computed by
streaming the very export a download sends through SHA-256, once per version of the data
(the download's ETag: row count, last batch, schema), and kept in the payload store. A file
not yet measured is measured on the first request that needs it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from exchange.core.resource_schema import ResourceSchema
from exchange.core.store import PayloadStore
from exchange.directory.models import Resource
from exchange.platforms.open_data import access
from exchange.platforms.open_data.ckan.dicts import LICENCES, MEDIA_TYPES, iso
from exchange.platforms.open_data.datastore import exports
from exchange.platforms.open_data.portal.service import Card

# What Table Schema itself defines for a field; the hub's own keys (sensitivity, codeList,
# check, references, indexed) stay in the schema files.
Measurer = Callable[[ResourceSchema, Resource, str], tuple[int, str]]
FIELD_KEYS = ("name", "title", "description", "type", "format", "constraints", "example")


def download_tag(resource: Resource, fmt: str) -> str:
    """The version of one download: it changes only when a batch lands or the schema does."""
    version = f"{resource.row_count}.{iso(resource.last_updated_at)}.{resource.schema_sha256[:12]}"
    return hashlib.sha256(f"{resource.code}.{fmt.lower()}.{version}".encode()).hexdigest()[:24]


def table_schema(schema: ResourceSchema) -> dict[str, Any]:
    served = {f.name for f in access.served_fields(schema)}
    fields = [
        {k: f[k] for k in FIELD_KEYS if k in f}
        for f in schema.descriptor.get("fields", [])
        if f.get("name") in served
    ]
    out: dict[str, Any] = {"fields": fields}
    if set(schema.primary_key) <= served:
        out["primaryKey"] = list(schema.primary_key)
    return out


def measure(
    store: PayloadStore,
    sessions: sessionmaker[Session],
    schema: ResourceSchema,
    resource: Resource,
    fmt: str,
) -> tuple[int, str]:
    """(bytes, sha256 hex) of the download as it is sent, cached per version."""
    key = f"open_data/digests/{schema.code}/{fmt}-{download_tag(resource, fmt)}.json"
    if store.exists(key):
        with store.open(key) as fh:
            known = json.load(fh)
        return int(known["bytes"]), str(known["sha256"])
    digest, size = hashlib.sha256(), 0
    for chunk in exports.export(sessions, schema, fmt).body:
        digest.update(chunk)
        size += len(chunk)
    record = {"bytes": size, "sha256": digest.hexdigest()}
    store.put_stream(key, iter([json.dumps(record).encode()]))
    return size, digest.hexdigest()


def _resource(
    card: Card, schema: ResourceSchema, fmt: str, base: str, size: int, sha256: str
) -> dict[str, Any]:
    r = card.resource
    out: dict[str, Any] = {
        "name": f"{r.code}-{fmt.lower()}",
        "title": f"{r.title}（{fmt}）",
        "path": f"{base}/datasets/{r.code}/download.{fmt.lower()}",
        "format": fmt.lower(),
        "mediatype": MEDIA_TYPES[fmt],
        "bytes": size,
        "hash": f"sha256:{sha256}",
    }
    if fmt != "CSV":
        # read as bytes: a validator checks its size and hash (frictionless cannot count a
        # Parquet file's bytes when it opens it as a table)
        out["type"] = "file"
    else:
        out |= {
            "profile": "tabular-data-resource",
            "encoding": "utf-8-sig",  # the BOM lets spreadsheets read Chinese
            "dialect": {"delimiter": ",", "header": True},
            "schema": table_schema(schema),
        }
    return out


def _licences(card: Card) -> list[dict[str, str]]:
    licence = LICENCES.get(card.resource.licence or "")
    if not licence:
        return []
    return [{"name": card.resource.licence or "", "title": licence[0], "path": licence[1]}]


def dataset_package(
    card: Card, schema: ResourceSchema, base: str, measured: Measurer
) -> dict[str, Any]:
    """`measured(schema, resource, fmt)` gives (bytes, sha256) of a download."""
    r = card.resource
    resources = [
        _resource(card, schema, fmt, base, *measured(schema, r, fmt)) for fmt in card.formats
    ]
    return {
        "profile": "data-package",
        "name": r.code.replace("_", "-"),
        "id": f"{base}/datasets/{r.code}",
        "title": r.title,
        "description": r.abstract,
        "homepage": f"{base}/datasets/{r.code}",
        "keywords": list(r.tags),
        "licenses": _licences(card),
        "sources": [{"title": r.provider.name}],
        "created": iso(r.published_at),
        "resources": resources,
    }


def catalogue_package(
    cards: list[Card],
    schemas: Mapping[str, ResourceSchema],
    base: str,
    node: str,
    measured: Measurer,
) -> dict[str, Any]:
    """Every open dataset's CSV as one package."""
    resources: list[dict[str, Any]] = []
    for card in cards:
        schema = schemas.get(card.resource.code)
        if card.open and schema is not None and "CSV" in card.formats:
            size, sha = measured(schema, card.resource, "CSV")
            resources.append(_resource(card, schema, "CSV", base, size, sha))
    return {
        "profile": "data-package",
        "name": "open-data-catalogue",
        "id": f"{base}/datapackage.json",
        "title": f"{node}公共数据开放平台",
        "homepage": f"{base}/",
        "resources": resources,
    }
