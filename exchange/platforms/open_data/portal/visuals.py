"""What a dataset page draws from its rows: a chart, a map, a time span. Cached per version.

The inputs are bounded samples (the first rows by key), so a page costs the same on a
10M-row table as on a small one; the cache is keyed by the catalogue entry's last update, so
a new batch shows at once.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from exchange.core import divisions
from exchange.core.resource_schema import ResourceSchema
from exchange.directory.models import Resource
from exchange.platforms.open_data.datastore import repository as ds
from exchange.platforms.open_data.portal import charts

SAMPLE_ROWS = 5000
MAP_POINTS = 2000
CACHE_SIZE = 256


@dataclass(frozen=True)
class Visuals:
    chart: charts.Chart | None
    map: charts.Chart | None
    sample_rows: int
    complete: bool  # the sample is the whole table
    temporal: tuple[str, str] | None


_cache: OrderedDict[tuple[Any, ...], Visuals] = OrderedDict()
_lock = threading.Lock()


def temporal(
    session: Session, schema: ResourceSchema, resource: Resource
) -> tuple[str, str] | None:
    f = ds.period_field(schema)
    if f is None or not (f.indexed or resource.row_count <= ds.COUNT_CAP):
        return None
    found = ds.value_range(session, schema, f)
    if found is None:
        return None
    lo, hi = found
    fmt = (lambda v: v.isoformat()) if isinstance(lo, dt.date) else str
    return fmt(lo), fmt(hi)


def _landmarks(resource: Resource) -> list[tuple[float, float, str]]:
    """The centres of the provider's node's districts: a base map without tiles."""
    return [
        (d.longitude, d.latitude, d.name)
        for d in divisions.children_of(resource.provider.node_code)
        if d.longitude is not None and d.latitude is not None
    ]


def visuals(
    session: Session, schema: ResourceSchema, resource: Resource, series: str | None
) -> Visuals:
    """The default drawing, or another series of its chart if `series` names one of them
    (anything else a visitor puts in the URL gets the default, so the cache stays bounded)."""
    default = _cached(session, schema, resource, None)
    chart = default.chart
    if series and chart and series != chart.selected and series in dict(chart.options):
        return _cached(session, schema, resource, series)
    return default


def _cached(
    session: Session, schema: ResourceSchema, resource: Resource, series: str | None
) -> Visuals:
    key = (resource.code, resource.last_updated_at, resource.row_count, series)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    rows = ds.keyset_page(session, schema, size=SAMPLE_ROWS).rows
    chart = charts.time_series(schema, rows, series) or charts.categories(schema, rows)
    made = Visuals(
        chart=chart,
        map=charts.point_map(schema, rows[:MAP_POINTS], _landmarks(resource)),
        sample_rows=len(rows),
        complete=len(rows) < SAMPLE_ROWS,
        temporal=temporal(session, schema, resource),
    )
    with _lock:
        _cache[key] = made
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return made
