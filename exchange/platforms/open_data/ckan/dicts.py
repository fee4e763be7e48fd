"""CKAN's dictionaries (package, resource, organization, tag) for the hub's catalogue entries.

Field names and types follow CKAN 2.10's `package_show`, so harvesters and `ckanapi` read them
unchanged; what CKAN has no field for goes into `extras`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from exchange.core import classification
from exchange.core.resource_schema import OpenClass
from exchange.directory.models import Department
from exchange.platforms.open_data import access, i18n
from exchange.platforms.open_data.portal.service import Card
from exchange.quality.score import OPEN_LICENCES

NAMESPACE = uuid.UUID("6f1c1d0e-8f7a-5c2e-9b1a-0d3e4c5b6a79")
LICENCES = {
    "CC-BY-4.0": (
        "Creative Commons Attribution 4.0",
        "https://creativecommons.org/licenses/by/4.0/",
    ),
    "CC-BY-SA-4.0": (
        "Creative Commons Attribution Share-Alike 4.0",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    "CC0-1.0": ("Creative Commons CCZero", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODbL-1.0": (
        "Open Data Commons Open Database License",
        "https://opendatacommons.org/licenses/odbl/1-0/",
    ),
}
MEDIA_TYPES = {
    "CSV": "text/csv",
    "JSON": "application/json",
    "Parquet": "application/vnd.apache.parquet",
    "GeoJSON": "application/geo+json",
}
CKAN_TYPES = {
    "string": "text",
    "integer": "int",
    "year": "int",
    "number": "numeric",
    "boolean": "bool",
    "date": "date",
    "datetime": "timestamp",
    "time": "time",
}


def iso(value: dt.datetime | None) -> str | None:
    """CKAN writes naive UTC timestamps."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat()


def package_id(node_code: str, code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{node_code}/{code}"))


def organization_dict(dept: Department, package_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(dept.id),
        "name": dept.code.lower(),
        "title": dept.name,
        "display_name": dept.name,
        "description": f"{dept.name}（部门代码 {dept.code}，{dept.path}）",
        "type": "organization",
        "state": "active",
        "is_organization": True,
        "approval_status": "approved",
        "image_url": "",
        "created": iso(dept.created_at),
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def resource_dicts(card: Card, base: str) -> list[dict[str, Any]]:
    r = card.resource
    pid = package_id(r.provider.node_code, r.code)
    modified = iso(r.last_updated_at)
    if not access.data_is_open(r.open_class):
        url = access.RESTRICTED_ACCESS.application_url(r.code)
        return [
            {
                "id": f"{r.code}-application",
                "package_id": pid,
                "name": "申请使用 (application required)",
                "description": "受限开放：提交申请并经提供部门审核通过后获取数据。",
                "format": "HTML",
                "url": url if url.startswith("http") else base + url,
                "datastore_active": False,
                "state": "active",
                "position": 0,
                "created": iso(r.published_at),
                "last_modified": modified,
                "url_type": None,
            }
        ]
    return [
        {
            "id": f"{r.code}-{fmt.lower()}",
            "package_id": pid,
            "name": f"{r.title} ({fmt})",
            "description": f"全量数据，{fmt} 格式，流式下载，不限行数。",
            "format": fmt,
            "mimetype": MEDIA_TYPES[fmt],
            "url": f"{base}/datasets/{r.code}/download.{fmt.lower()}",
            "datastore_active": True,
            "state": "active",
            "position": i,
            "created": iso(r.published_at),
            "last_modified": modified,
            "url_type": None,
        }
        for i, fmt in enumerate(card.formats)
    ]


def package_dict(card: Card, base: str) -> dict[str, Any]:
    r = card.resource
    licence = LICENCES.get(r.licence or "")
    resources = resource_dicts(card, base)
    extras = {
        "identifier": r.identifier or "",
        "classification": r.classification,
        "classification_label": classification.label(r.classification),
        "update_cycle": r.update_cycle,
        "update_cycle_label": i18n.text(f"cycle_{r.update_cycle}", "zh"),
        "open_class": r.open_class,
        "open_class_label": OpenClass(r.open_class).label,
        "quality_score": f"{card.quality.score:.2f}",
        "overdue": "true" if card.overdue else "false",
        "row_count": str(r.row_count),
    }
    return {
        "id": package_id(r.provider.node_code, r.code),
        "name": r.code,
        "title": r.title,
        "notes": r.abstract,
        "type": "dataset",
        "state": "active",
        "private": False,
        "license_id": r.licence or "notspecified",
        "license_title": licence[0] if licence else (r.licence or "License not specified"),
        "license_url": licence[1] if licence else None,
        "isopen": r.licence in OPEN_LICENCES,
        "author": r.provider.name,
        "maintainer": r.provider.name,
        "author_email": None,
        "maintainer_email": None,
        "url": f"{base}/datasets/{r.code}",
        "version": None,
        "metadata_created": iso(r.published_at),
        "metadata_modified": iso(r.last_updated_at or r.published_at),
        "owner_org": str(r.provider.id),
        "organization": organization_dict(r.provider),
        "tags": [tag_dict(t) for t in r.tags],
        "num_tags": len(r.tags),
        "groups": [{"name": r.topic, "title": r.topic, "display_name": r.topic}] if r.topic else [],
        "resources": resources,
        "num_resources": len(resources),
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def tag_dict(name: str) -> dict[str, Any]:
    return {"name": name, "display_name": name, "state": "active", "vocabulary_id": None}
