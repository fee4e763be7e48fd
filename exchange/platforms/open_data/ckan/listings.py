"""The CKAN actions harvesters and catalogue clients call beyond search and show: resources,
groups (the portal's topics), tags, licences, autocompletion and activity streams.

Activity streams are derived from the catalogue's own timestamps (publication, last batch):
the hub keeps no per-edit activity table, so each dataset shows at most its "new package"
and its latest "changed package" activity, with stable ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from exchange.platforms.open_data import errors
from exchange.platforms.open_data.ckan.dicts import (
    LICENCES,
    NAMESPACE,
    iso,
    package_dict,
    package_id,
    resource_dicts,
    tag_dict,
)
from exchange.platforms.open_data.ckan.params import (
    Context,
    NotFound,
    ValidationError,
    boolean,
    integer,
    string,
)
from exchange.platforms.open_data.portal import repository as repo
from exchange.platforms.open_data.portal import service
from exchange.platforms.open_data.portal.service import Card

MAX_AUTOCOMPLETE = 100
MAX_LIST = 1000


def _cards(ctx: Context) -> list[Card]:
    """Every listed dataset as a card, most recently changed first (CKAN's list order)."""
    found = service.search(
        ctx.session, ctx.schemas, sort="updated", limit=MAX_LIST * 100, with_facets=False
    )
    return found.cards


def _card(ctx: Context, code: str, what: str) -> Card:
    try:
        return service.card_of(ctx.session, ctx.schemas, code)
    except errors.DatasetNotFound:
        raise NotFound(f"Not found: {what}") from None


def _page(params: Mapping[str, Any], default: int) -> tuple[int, int]:
    limit = min(integer(params, "limit", default), MAX_LIST)
    return limit, integer(params, "offset", 0)


# -- resources ---------------------------------------------------------------------------
def resource_show(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """One resource (a download of a dataset, or a restricted dataset's application page)."""
    rid = string(params, "id", required=True) or ""
    code = rid.rsplit("-", 1)[0] if "-" in rid else rid
    card = _card(ctx, code, f"resource {rid!r}")
    for res in resource_dicts(card, ctx.base):
        if res["id"] == rid:
            return res
    raise NotFound(f"Not found: resource {rid!r}")


RESOURCE_FIELDS = ("name", "description", "format", "url", "mimetype")


def resource_search(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """Resources whose fields contain the given text: query "format:CSV" or a list of them
    (every term must match, case-insensitively, as in CKAN)."""
    raw = params.get("query")
    if raw is None or raw == "":
        raise ValidationError("query", "Missing value")
    terms = raw if isinstance(raw, list) else [raw]
    wanted: list[tuple[str, str]] = []
    for term in terms:
        field, sep, text = str(term).partition(":")
        if not sep or field not in RESOURCE_FIELDS:
            raise ValidationError(
                "query", f"use field:term with a field among {', '.join(RESOURCE_FIELDS)}"
            )
        wanted.append((field, text.lower()))
    order = string(params, "order_by")
    if order is not None and order not in RESOURCE_FIELDS:
        raise ValidationError("order_by", f"use one of {', '.join(RESOURCE_FIELDS)}")
    limit, offset = _page(params, MAX_LIST)
    found = [
        res
        for card in _cards(ctx)
        for res in resource_dicts(card, ctx.base)
        if all(text in str(res.get(field) or "").lower() for field, text in wanted)
    ]
    if order:
        found.sort(key=lambda r: str(r.get(order) or ""))
    return {"count": len(found), "results": found[offset : offset + limit]}


def current_package_list_with_resources(
    ctx: Context, params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every dataset with its resources, most recently modified first (limit, offset)."""
    limit, offset = _page(params, MAX_LIST)
    found = service.search(
        ctx.session, ctx.schemas, sort="updated", limit=limit, offset=offset, with_facets=False
    )
    return [package_dict(card, ctx.base) for card in found.cards]


# -- groups (topics), tags, licences --------------------------------------------------------
def _topics(ctx: Context) -> dict[str, int]:
    counts = repo.facet_counts(ctx.session, repo.Query(), per_facet=-1)
    return {c.value: c.count for c in counts if c.facet == "topic"}


def _group_dict(name: str, count: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(NAMESPACE, f"group/{name}")),
        "name": name,
        "title": name,
        "display_name": name,
        "description": f"主题：{name}",
        "type": "group",
        "state": "active",
        "is_organization": False,
        "approval_status": "approved",
        "image_url": "",
        "package_count": count,
    }


def group_list(ctx: Context, params: Mapping[str, Any]) -> list[Any]:
    """The portal's topics as CKAN groups (names; all_fields for dictionaries)."""
    topics = sorted(_topics(ctx).items())
    order = string(params, "sort") or "name"
    if order.split()[0] not in ("name", "title", "package_count"):
        raise ValidationError("sort", "use name, title or package_count")
    if order.startswith("package_count"):
        topics.sort(key=lambda t: -t[1])
    limit, offset = _page(params, MAX_LIST)
    topics = topics[offset : offset + limit]
    if boolean(params, "all_fields", False):
        return [_group_dict(n, c) for n, c in topics]
    return [n for n, _ in topics]


def group_show(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """One topic by name or id; include_datasets adds up to 10 of its datasets."""
    ident = string(params, "id", required=True) or ""
    topics = _topics(ctx)
    name = next(
        (n for n in topics if ident in (n, _group_dict(n, 0)["id"])),
        None,
    )
    if name is None:
        raise NotFound(f"Not found: group {ident!r}")
    out = _group_dict(name, topics[name])
    if boolean(params, "include_datasets", False):
        found = service.search(
            ctx.session, ctx.schemas, filters={"topic": [name]}, limit=10, with_facets=False
        )
        out["packages"] = [package_dict(card, ctx.base) for card in found.cards]
    return out


def tag_show(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """One tag; include_datasets adds its datasets (up to 1000)."""
    name = string(params, "id", required=True) or ""
    counts = repo.facet_counts(ctx.session, repo.Query(), per_facet=-1)
    if not any(c.facet == "tag" and c.value == name for c in counts):
        raise NotFound(f"Not found: tag {name!r}")
    out = {"id": str(uuid.uuid5(NAMESPACE, f"tag/{name}")), **tag_dict(name)}
    if boolean(params, "include_datasets", False):
        found = service.search(
            ctx.session, ctx.schemas, filters={"tag": [name]}, limit=MAX_LIST, with_facets=False
        )
        out["packages"] = [package_dict(card, ctx.base) for card in found.cards]
    return out


def license_list(ctx: Context, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The licences datasets may carry, in CKAN's licence shape."""
    return [
        {
            "id": code,
            "title": title,
            "url": url,
            "status": "active",
            "maintainer": "",
            "family": "",
            "od_conformance": "approved",
            "osd_conformance": "not reviewed",
            "domain_content": True,
            "domain_data": True,
            "domain_software": False,
            "is_generic": False,
        }
        for code, (title, url) in LICENCES.items()
    ]


# -- autocompletion ------------------------------------------------------------------------
def _needle(params: Mapping[str, Any]) -> tuple[str, int]:
    q = (string(params, "q", required=True) or "").strip().lower()
    if len(q) > 100:
        raise ValidationError("q", "at most 100 characters")
    return q, min(integer(params, "limit", 10, low=1), MAX_AUTOCOMPLETE)


def package_autocomplete(ctx: Context, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Datasets whose name or title contains q, names first (name, title, match_field)."""
    q, limit = _needle(params)
    out = []
    for r in repo.listed(ctx.session):
        field = "name" if q in r.code.lower() else "title" if q in r.title.lower() else None
        if field:
            shown = r.code if field == "name" else r.title
            out.append(
                {"name": r.code, "title": r.title, "match_field": field, "match_displayed": shown}
            )
    out.sort(key=lambda d: (d["match_field"] != "name", d["name"]))
    return out[:limit]


def format_autocomplete(ctx: Context, params: Mapping[str, Any]) -> list[str]:
    """Resource formats containing q (lower case, as CKAN returns them)."""
    q, limit = _needle(params)
    counts = repo.facet_counts(ctx.session, repo.Query(), per_facet=-1)
    found = sorted({c.value.lower() for c in counts if c.facet == "format"})
    return [f for f in found if q in f][:limit]


def organization_autocomplete(ctx: Context, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Provider departments whose code or name contains q (id, name, title)."""
    q, limit = _needle(params)
    return [
        {"id": str(d.id), "name": d.code.lower(), "title": d.name}
        for d, _ in repo.providers(ctx.session)
        if q in d.code.lower() or q in d.name.lower()
    ][:limit]


# -- activity streams ------------------------------------------------------------------------
def _activities(card: Card, base: str) -> list[dict[str, Any]]:
    r = card.resource
    pid = package_id(r.provider.node_code, r.code)
    pkg = package_dict(card, base)
    out = []
    moments: list[tuple[str, dt.datetime | None]] = [("new package", r.published_at)]
    if r.last_updated_at and r.last_updated_at != r.published_at:
        moments.append(("changed package", r.last_updated_at))
    for kind, when in moments:
        if when is None:
            continue
        out.append(
            {
                "id": str(uuid.uuid5(NAMESPACE, f"activity/{pid}/{kind}/{iso(when)}")),
                "timestamp": iso(when),
                "user_id": str(r.provider.id),
                "object_id": pid,
                "activity_type": kind,
                "data": {"package": pkg},
            }
        )
    return out


def _stream(params: Mapping[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    limit = min(integer(params, "limit", 31), 100)
    offset = integer(params, "offset", 0)
    items.sort(key=lambda a: a["timestamp"], reverse=True)
    return items[offset : offset + limit]


def package_activity_list(ctx: Context, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A dataset's activity (publication, latest change), newest first."""
    ident = string(params, "id", required=True) or ""
    return _stream(params, _activities(_card(ctx, ident, f"dataset {ident!r}"), ctx.base))


def recently_changed_packages_activity_list(
    ctx: Context, params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The portal's most recent dataset activities, newest first (limit 31, max 100)."""
    return _stream(params, [a for card in _cards(ctx) for a in _activities(card, ctx.base)])


ACTIONS = {
    "resource_show": resource_show,
    "resource_search": resource_search,
    "current_package_list_with_resources": current_package_list_with_resources,
    "group_list": group_list,
    "group_show": group_show,
    "tag_show": tag_show,
    "license_list": license_list,
    "package_autocomplete": package_autocomplete,
    "format_autocomplete": format_autocomplete,
    "organization_autocomplete": organization_autocomplete,
    "package_activity_list": package_activity_list,
    "recently_changed_packages_activity_list": recently_changed_packages_activity_list,
}
