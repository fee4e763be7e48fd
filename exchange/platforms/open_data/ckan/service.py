"""The CKAN Action API (`/api/3/action/<name>`): parameters checked as CKAN checks them,
results and errors in CKAN's shapes, so `ckanapi` and harvesters work unchanged."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from exchange.core.errors import HubError
from exchange.platforms.open_data import errors
from exchange.platforms.open_data.ckan import fq, listings
from exchange.platforms.open_data.ckan.datastore import datastore_info, datastore_search
from exchange.platforms.open_data.ckan.dicts import (
    organization_dict,
    package_dict,
    package_id,
    tag_dict,
)
from exchange.platforms.open_data.ckan.params import (
    CkanError,
    Context,
    NotFound,
    SearchQueryError,
    ValidationError,
    boolean,
    from_hub_error,
    integer,
    json_value,
    string,
)
from exchange.platforms.open_data.ckan.sql import datastore_search_sql
from exchange.platforms.open_data.portal import repository as repo
from exchange.platforms.open_data.portal import service

CKAN_VERSION = "2.10.4"
# CKAN facet names -> the portal's facets; the portal's own names work too.
FACET_FIELDS = {
    "organization": "provider",
    "tags": "tag",
    "res_format": "format",
    "groups": "topic",
    **{f: f for f in service.FACETS},
}
# CKAN's sort keys -> the portal's orders; CKAN's default is "score desc, metadata_modified desc".
SORT_KEYS = {
    ("score", "desc"): "relevance",
    ("metadata_modified", "desc"): "updated",
    ("metadata_modified", "asc"): "updated_asc",
    ("metadata_created", "desc"): "created",
    ("metadata_created", "asc"): "created_asc",
    ("title_string", "asc"): "title",
    ("title_string", "desc"): "title_desc",
    ("title", "asc"): "title",
    ("title", "desc"): "title_desc",
    ("name", "asc"): "name",
    ("name", "desc"): "name_desc",
}
DEFAULT_SORT = "score desc, metadata_modified desc"


def parse_sort(text: str) -> str:
    """A CKAN sort ("name asc", "metadata_modified desc", CKAN's default pair) as the portal's
    order; the first key decides (the portal breaks ties by update time and name)."""
    keys = []
    for part in text.split(","):
        words = part.strip().lower().split()
        if len(words) == 1:
            words.append("asc")
        if len(words) != 2 or tuple(words) not in SORT_KEYS:
            known = sorted({f"{f} {d}" for f, d in SORT_KEYS})
            raise ValidationError(
                "sort", f"cannot sort by {part.strip()!r}; use {', '.join(known)}"
            )
        keys.append(SORT_KEYS[(words[0], words[1])])
    return keys[0]


_FQ = re.compile(r'([+-]?)(\w[\w.]*):(?:"([^"]*)"|(\S+))')


def parse_fq(text: str, into: dict[str, list[str]], param: str = "fq") -> str:
    """Take `field:value` filters out of `text` into `into`; returns the remaining words."""
    rest = text
    for m in _FQ.finditer(text):
        sign, name, quoted, bare = m.groups()
        if name not in FACET_FIELDS:
            if param == "q":
                continue  # an ordinary word with a colon in it
            raise SearchQueryError(f"Search Query Error: unknown field {name!r} in {param}")
        if sign == "-":
            raise SearchQueryError(
                f"Search Query Error: negated filters are not supported ({param})"
            )
        value = quoted if quoted is not None else bare
        if FACET_FIELDS[name] == "provider":
            value = value.upper()
        into.setdefault(FACET_FIELDS[name], []).append(value)
        rest = rest.replace(m.group(0), " ")
    return rest.strip()


def _fq_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """fq, and fq_list (a list of expressions, every one must match), as CKAN 2.10 takes them."""
    out = [("fq", string(params, "fq") or "")]
    raw = json_value(params, "fq_list")
    if raw is not None:
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise ValidationError("fq_list", "Must be a list of filter queries")
        out += [("fq_list", x) for x in raw]
    return out


# -- actions -----------------------------------------------------------------------------
def package_list(ctx: Context, params: Mapping[str, Any]) -> list[str]:
    """Names of every dataset on the portal (open and restricted)."""
    limit = params.get("limit")
    return service.package_names(
        ctx.session,
        limit=integer(params, "limit", 0) if limit is not None else None,
        offset=integer(params, "offset", 0),
    )


def package_search(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """Search datasets: q (Chinese words, segmented), fq, facet.field, rows, start, sort."""
    rows = min(integer(params, "rows", 10), 1000)
    start = integer(params, "start", 0)
    filters: dict[str, list[str]] = {}
    q = parse_fq(string(params, "q") or "", filters, "q")
    if q in ("*:*", "*"):
        q = ""
    among = fq.matching_codes(ctx.session, _fq_params(params))
    sort_param = (string(params, "sort") or "").strip()
    sort = parse_sort(sort_param or DEFAULT_SORT)
    if sort == "relevance" and not q:
        sort = "updated"  # no words: every score is equal, CKAN's second key decides
    fields = json_value(params, "facet.field") or []
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ValidationError("facet.field", "Must be a JSON list of field names")
    for f in fields:
        if f not in FACET_FIELDS:
            raise ValidationError("facet.field", f"unknown facet {f!r}")
    facet_limit = integer(params, "facet.limit", 50, low=-1)
    result = service.search(
        ctx.session,
        ctx.schemas,
        q=q or None,
        filters=filters,
        sort=sort,
        limit=rows,
        offset=start,
        facet_limit=facet_limit,
        with_facets=bool(fields),
        among=among,
    )
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for name in fields:
        counts = result.facets.get(FACET_FIELDS[name], [])
        shown = [(c.value.lower() if name == "organization" else c.value, c) for c in counts]
        facets[name] = {value: c.count for value, c in shown}
        search_facets[name] = {
            "title": name,
            "items": [{"name": v, "display_name": c.label, "count": c.count} for v, c in shown],
        }
    return {
        "count": result.total,
        "sort": sort_param or DEFAULT_SORT,
        "facets": facets,
        "search_facets": search_facets,
        "results": [package_dict(card, ctx.base) for card in result.cards],
    }


def package_show(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """One dataset by name (its resource code) or id."""
    ident = string(params, "id", required=True) or ""
    code = ident
    if len(ident) == 36:  # a package id: find the dataset it was made from
        listed = repo.listed(ctx.session)
        code = next(
            (r.code for r in listed if package_id(r.provider.node_code, r.code) == ident), ""
        )
    try:
        card = service.card_of(ctx.session, ctx.schemas, code)
    except errors.DatasetNotFound:
        raise NotFound(f"Not found: dataset {ident!r}") from None
    return package_dict(card, ctx.base)


def organization_list(ctx: Context, params: Mapping[str, Any]) -> list[Any]:
    """Provider departments with datasets on the portal."""
    everything = boolean(params, "all_fields", False)
    found = repo.providers(ctx.session)
    offset = integer(params, "offset", 0)
    limit = integer(params, "limit", 1000)
    found = found[offset : offset + limit]
    if everything:
        return [organization_dict(d, n) for d, n in found]
    return [d.code.lower() for d, _ in found]


def organization_show(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """One provider department by name or id; include_datasets adds up to 10 of its datasets."""
    ident = string(params, "id", required=True) or ""
    found = repo.provider_by_code(ctx.session, ident)
    if found is None:
        raise NotFound(f"Not found: organization {ident!r}")
    dept, count = found
    out = organization_dict(dept, count)
    if boolean(params, "include_datasets", False):
        result = service.search(
            ctx.session, ctx.schemas, filters={"provider": [dept.code]}, limit=10, with_facets=False
        )
        out["packages"] = [package_dict(card, ctx.base) for card in result.cards]
    return out


def tag_list(ctx: Context, params: Mapping[str, Any]) -> list[Any]:
    """Tags of the portal's datasets; `query` keeps those containing it."""
    query = (string(params, "query") or "").lower()
    tags = [
        c.value
        for c in repo.facet_counts(ctx.session, repo.Query(), per_facet=-1)
        if c.facet == "tag" and query in c.value.lower()
    ]
    if boolean(params, "all_fields", False):
        return [tag_dict(t) for t in tags]
    return tags


def status_show(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """The site, the CKAN API version it follows and its extensions."""
    return {
        "ckan_version": CKAN_VERSION,
        "site_url": ctx.base,
        "site_title": "公共数据开放平台",
        "site_description": "City data exchange hub: open-data platform",
        "locale_default": "zh_Hans_CN",
        "extensions": ["datastore", "dcat"],
    }


def site_read(ctx: Context, params: Mapping[str, Any]) -> bool:
    """Whether the site can be read (always, anonymously)."""
    return True


def help_show(ctx: Context, params: Mapping[str, Any]) -> str | None:
    """The documentation of an action."""
    name = string(params, "name", required=True) or ""
    if name not in ACTIONS:
        raise NotFound(f"Action {name!r} not found")
    return ACTIONS[name].__doc__


def datastore(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """Rows of a dataset: resource_id, filters, q, fields, sort, limit (100, max 32000),
    offset, include_total."""
    return datastore_search(ctx, params)


ACTIONS: dict[str, Callable[[Context, Mapping[str, Any]], Any]] = {
    "package_list": package_list,
    "package_search": package_search,
    "package_show": package_show,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "tag_list": tag_list,
    "datastore_search": datastore,
    "status_show": status_show,
    "site_read": site_read,
    "help_show": help_show,
    "datastore_info": datastore_info,
    "datastore_search_sql": datastore_search_sql,
    **listings.ACTIONS,
}


def call(ctx: Context, action: str, params: Mapping[str, Any]) -> Any:
    fn = ACTIONS.get(action)
    if fn is None:
        raise CkanError(f"Bad request - Action name not known: {action}")
    try:
        return fn(ctx, params)
    except HubError as exc:
        raise from_hub_error(exc) from None
