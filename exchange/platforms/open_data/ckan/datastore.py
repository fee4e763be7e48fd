"""CKAN's `datastore_search` over a dataset's served columns."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
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
RECORDS_FORMATS = ("objects", "lists", "csv", "tsv")
_RESOURCE_SUFFIX = re.compile(r"-(csv|json|parquet|geojson)$")


def datastore_search(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    rid = ckan.string(params, "resource_id", required=True) or ""
    code = _RESOURCE_SUFFIX.sub("", rid)
    resource, schema = service.readable_schema(ctx.session, ctx.schemas, code, ctx.api_key_id)
    served = {f.name: f for f in access.served_fields(schema)}

    limit = min(ckan.integer(params, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    offset = ckan.integer(params, "offset", 0)
    include_total = ckan.boolean(params, "include_total", True)
    q = _q(params, served)

    records_format = ckan.string(params, "records_format") or "objects"
    if records_format not in RECORDS_FORMATS:
        raise ckan.ValidationError("records_format", f"use one of {', '.join(RECORDS_FORMATS)}")
    if ckan.boolean(params, "distinct", False):
        raise ckan.ValidationError("distinct", "distinct rows are not offered; leave it false")
    filters, raw_filters = _filters(params, served)
    sort = _sort(params, served)
    wanted = _fields(params, served)

    rows = ds.search_rows(
        ctx.session, schema, filters=filters, q=q, sort=sort, limit=limit, offset=offset
    )
    records = _records(rows, wanted, records_format)
    link_params = {k: v for k, v in params.items() if k not in ("offset",) and v is not None}
    link_params = {k: v if isinstance(v, str) else _json(v) for k, v in link_params.items()}
    out: dict[str, Any] = {
        "include_total": include_total,
        "resource_id": rid,
        "fields": [_field_dict(name, served) for name in wanted],
        "records_format": records_format,
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


def _q(params: Mapping[str, Any], served: dict[str, FieldSpec]) -> ds.Text:
    """Text anywhere ("杭州"), or per field as a JSON object ({"name": "医院"}, all must match)."""
    raw = params.get("q")
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        raw = ckan.json_value(params, "q")
    if isinstance(raw, dict):
        for name, text in raw.items():
            if name not in served:
                raise ckan.ValidationError("q", f'field "{name}" not in resource')
            if not isinstance(text, str) or len(text) > 200:
                raise ckan.ValidationError("q", f'"{name}": a text of at most 200 characters')
        return {str(k): str(v) for k, v in raw.items() if v}
    q = ckan.string(params, "q")
    if q is not None and len(q) > 200:
        raise ckan.ValidationError("q", "at most 200 characters")
    return q


def _field_dict(name: str, served: dict[str, FieldSpec]) -> dict[str, Any]:
    if name == "_id":
        return {"id": "_id", "type": "int"}
    spec = served[name]
    return {
        "id": name,
        "type": CKAN_TYPES[spec.type],
        "info": {"label": spec.title, "notes": spec.description or ""},
    }


def datastore_info(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """A datastore resource's fields and row count (CKAN 2.11's shape: meta and fields)."""
    rid = ckan.string(params, "id", required=True) or ""
    code = _RESOURCE_SUFFIX.sub("", rid)
    resource, schema = service.readable_schema(ctx.session, ctx.schemas, code, ctx.api_key_id)
    served = {f.name: f for f in access.served_fields(schema)}
    fields = []
    for name in served:
        field = _field_dict(name, served)
        field["schema"] = {"native_type": CKAN_TYPES[served[name].type], "is_index": False}
        fields.append(field)
    return {
        "meta": {"id": rid, "count": resource.row_count, "table_type": "BASE TABLE"},
        "fields": fields,
    }


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
    """The fields wanted, as a JSON list or CKAN's comma-separated text; `_id` is allowed."""
    raw = params.get("fields")
    if isinstance(raw, str) and not raw.lstrip().startswith("["):
        fields_param: Any = [f.strip() for f in raw.split(",") if f.strip()]
    else:
        fields_param = ckan.json_value(params, "fields")
    if not fields_param:
        return ["_id", *served]
    if not isinstance(fields_param, list) or not all(isinstance(f, str) for f in fields_param):
        raise ckan.ValidationError("fields", "Must be a list of field names")
    unknown = [f for f in fields_param if f not in served and f != "_id"]
    if unknown:
        raise ckan.ValidationError("fields", f'field "{unknown[0]}" not in resource')
    return list(dict.fromkeys(fields_param))


def _records(
    rows: Sequence[tuple[int, Mapping[str, Any]]], wanted: list[str], fmt: str
) -> list[dict[str, Any]] | list[list[Any]] | str:
    """Rows as CKAN's records_format asks: objects, lists, or csv/tsv text (no header row)."""
    as_lists = [
        [rid if name == "_id" else values.jsonable(row[name]) for name in wanted]
        for rid, row in rows
    ]
    if fmt == "objects":
        return [dict(zip(wanted, values_, strict=True)) for values_ in as_lists]
    if fmt == "lists":
        return as_lists
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
    for values_ in as_lists:
        writer.writerow(["" if v is None else v for v in values_])
    return buf.getvalue()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
