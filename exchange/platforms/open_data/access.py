"""Who may see what on the portal: the open class of a dataset and the sensitivity of a field.

* 无条件开放 (`open`): metadata and data are public.
* 受限开放 (`restricted`): metadata is public, data only through an approved public
  application. The application workflow (with its agreement) belongs to the sharing platform;
  the portal only asks `RESTRICTED_ACCESS` and links to its form (see `RestrictedAccess`).
* 禁止开放 (`closed`): never appears, not in listings, counts, sitemaps or metadata.

Only fields whose sensitivity is `public` are ever served, whatever the open class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from exchange.core.resource_schema import FieldSpec, OpenClass, ResourceSchema, Sensitivity

LISTED_CLASSES = (OpenClass.open.value, OpenClass.restricted.value)
SERVED_CLASSES = (OpenClass.open.value,)
PUBLISHED = "published"


def is_listed(open_class: str, status: str) -> bool:
    return open_class in LISTED_CLASSES and status == PUBLISHED


def data_is_open(open_class: str) -> bool:
    return open_class in SERVED_CLASSES


def served_fields(schema: ResourceSchema) -> list[FieldSpec]:
    """The columns the portal may serve: sensitivity `public`, nothing else."""
    return [f for f in schema.fields if f.sensitivity is Sensitivity.public]


def withheld_fields(schema: ResourceSchema) -> list[FieldSpec]:
    return [f for f in schema.fields if f.sensitivity is not Sensitivity.public]


def is_geo(schema: ResourceSchema) -> bool:
    names = {f.name for f in served_fields(schema)}
    return {"longitude", "latitude"} <= names


def formats_of(schema: ResourceSchema | None, open_class: str) -> list[str]:
    """Download formats a visitor can get now (none for restricted or schema-less entries)."""
    if schema is None or not data_is_open(open_class) or not served_fields(schema):
        return []
    return ["CSV", "JSON", "Parquet", *(["GeoJSON"] if is_geo(schema) else [])]


class RestrictedAccess(Protocol):
    """The hook the sharing platform fills in for 受限开放 data.

    `may_read` says whether an approved public application covers this visitor (by API key
    or signed-in account); `application_url` is where a visitor applies. Until the sharing
    platform provides its implementation, nobody may read restricted data from the portal.
    """

    def may_read(self, resource_code: str, api_key_id: str | None) -> bool: ...

    def application_url(self, resource_code: str) -> str: ...


@dataclass(frozen=True)
class DenyRestricted:
    """Default: restricted data is never served; visitors are sent to the sharing platform."""

    form_path: str = "/sharing/v1/applications/new"

    def may_read(self, resource_code: str, api_key_id: str | None) -> bool:
        return False

    def application_url(self, resource_code: str) -> str:
        return f"{self.form_path}?resource={quote(resource_code)}&audience=public"


# Swap at start-up once the sharing platform's public applications exist, e.g.
# `access.RESTRICTED_ACCESS = sharing.public_access.PublicApplications(...)`.
RESTRICTED_ACCESS: RestrictedAccess = DenyRestricted()
