"""CKAN's `datastore_search` over a dataset's served columns."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from exchange.core import values
from exchange.core.resource_schema import FieldSpec
from exchange.platforms.open_data import access
from exchange.platforms.open_data.ckan import params as ckan
from exchange.platforms.open_data.ckan.dicts import CKAN_TYPES
from exchange.platforms.open_data.ckan.params import Context
from exchange.platforms.open_data.datastore import repository as ds
from exchange.platforms.open_data.portal import service

DEFAULT_LIMIT = 100
MAX_LIMIT = 32_000
_RESOURCE_SUFFIX = re.compile(r"-(csv|json|parquet|geojson)$")


def datastore_search(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    rid = ckan.string(params, "resource_id", required=True) or ""
    code = _RESOURCE_SUFFIX.sub("", rid)
    resource, schema = service.readable_schema(ctx.session, ctx.schemas, code, ctx.api_key_id)
    served = {f.name: f for f in access.served_fields(schema)}

    limit = min(ckan.integer(params, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    offset = ckan.integer(params, "offset", 0)
    include_total = ckan.boolean(params, "include_total", True)
    q = ckan.string(params, "q")
    if q is not None and len(q) > 200:
        raise ckan.ValidationError("q", "at most 200 characters")

    filters, raw_filters = _filters(params, served)
    sort = _sort(params, served)
    wanted = _fields(params, served)

    rows = ds.search_rows(
        ctx.session, schema, filters=filters, q=q, sort=sort, limit=limit, offset=offset
    )
    records = [{"_id": rid_, **{k: values.jsonable(row[k]) for k in wanted}} for rid_, row in rows]
    link_params = {k: v for k, v in params.items() if k not in ("offset",) and v is not None}
    link_params = {k: v if isinstance(v, str) else _json(v) for k, v in link_params.items()}
    out: dict[str, Any] = {
        "include_total": include_total,
        "resource_id": rid,
        "fields": [{"id": "_id", "type": "int"}]
        + [
            {
                "id": name,
                "type": CKAN_TYPES[served[name].type],
                "info": {"label": served[name].title, "notes": served[name].description or ""},
            }
            for name in wanted
        ],
        "records_format": "objects",
        "records": records,
        "limit": limit,
        "offset": offset,
        "_links": {
            "start": "/api/3/action/datastore_search?" + urlencode(link_params),
            "next": "/api/3/action/datastore_search?"
            + urlencode({**link_params, "offset": offset + limit}),
        },
    }
    if filters:
        out["filters"] = raw_filters
    if q:
        out["q"] = q
    if sort:
        out["sort"] = ", ".join(f"{n} {'desc' if d else 'asc'}" for n, d in sort)
    if include_total:
        if not filters and not q and resource.row_count > 0:
            # The catalogue keeps the count as batches load: no count(*) on a big table.
            out["total"], out["total_was_estimated"] = resource.row_count, False
        else:
            out["total"], out["total_was_estimated"] = ds.count_rows(
                ctx.session, schema, filters=filters, q=q
            )
    return out


def _filters(
    params: Mapping[str, Any], served: dict[str, FieldSpec]
) -> tuple[dict[str, list[Any]], Any]:
    filters: dict[str, list[Any]] = {}
    raw_filters = ckan.json_value(params, "filters") or {}
    if not isinstance(raw_filters, dict):
        raise ckan.ValidationError("filters", "Must be a JSON object of field: value")
    for name, value in raw_filters.items():
        if name not in served:
            raise ckan.ValidationError("filters", f'field "{name}" not in resource')
        values = value if isinstance(value, list) else [value]
        try:
            filters[name] = [ds.parse_value(served[name], v) for v in values]
        except ds.BadValue as exc:
            raise ckan.ValidationError("filters", str(exc)) from None
    return filters, raw_filters


def _sort(params: Mapping[str, Any], served: dict[str, FieldSpec]) -> list[tuple[str, bool]]:
    sort: list[tuple[str, bool]] = []
    for part in (ckan.string(params, "sort") or "").split(","):
        words = part.split()
        if not words:
            continue
        name = words[0].strip('"')
        direction = words[1].lower() if len(words) > 1 else "asc"
        if name not in served or direction not in ("asc", "desc") or len(words) > 2:
            raise ckan.ValidationError("sort", f'cannot sort by "{part.strip()}"')
        sort.append((name, direction == "desc"))
    return sort


def _fields(params: Mapping[str, Any], served: dict[str, FieldSpec]) -> list[str]:
    fields_param = ckan.json_value(params, "fields")
    if isinstance(fields_param, str):
        fields_param = [f.strip() for f in fields_param.split(",") if f.strip()]
    if not fields_param:
        return list(served)
    unknown = [f for f in fields_param if f not in served]
    if unknown or not isinstance(fields_param, list):
        raise ckan.ValidationError(
            "fields", f'field "{unknown[0] if unknown else "?"}" not in resource'
        )
    return list(fields_param)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
