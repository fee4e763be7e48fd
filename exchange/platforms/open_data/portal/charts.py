"""Inline SVG charts and point maps drawn on the server: no JavaScript, no tiles, no network.

Input is a bounded sample of rows (the first rows by key); the page says so when the sample
is not the whole table.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from exchange.core import codelists
from exchange.core.resource_schema import FieldSpec, ResourceSchema
from exchange.platforms.open_data.access import served_fields

W, H, PAD = 640, 260, 44
LEFT = 64  # room for the value axis labels


@dataclass(frozen=True)
class Chart:
    kind: str  # line | bar | map
    svg: str
    title: str
    options: list[tuple[str, str]]  # (value, label) of the series a visitor can pick
    selected: str | None = None
    points: int = 0


def _label(f: FieldSpec, value: Any) -> str:
    if f.code_list and value is not None:
        return codelists.label(f.code_list, value) or str(value)
    return str(value)


def _fmt(v: float) -> str:
    if abs(v) >= 1e8:
        return f"{v / 1e8:.2f}亿"
    if abs(v) >= 1e4:
        return f"{v / 1e4:.1f}万"
    return f"{v:.5g}"


def _svg(body: str, label: str) -> str:
    return (
        f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" class="chart">{body}</svg>'
    )


def _measure(fields: Sequence[FieldSpec]) -> FieldSpec | None:
    return next(
        (f for f in fields if f.type == "number" and f.name not in ("longitude", "latitude")),
        None,
    )


def time_series(
    schema: ResourceSchema, rows: Sequence[dict[str, Any]], series: str | None = None
) -> Chart | None:
    fields = served_fields(schema)
    names = {f.name for f in fields}
    period = next(
        (f for f in fields if f.name == "period" or f.type in ("date", "year", "datetime")), None
    )
    measure = _measure(fields)
    if period is None or measure is None or not rows:
        return None
    keys = [schema.field(k) for k in schema.primary_key if k != period.name and k in names]
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault("|".join(str(row[k.name]) for k in keys), []).append(row)
    options = [
        (g, " · ".join(_label(k, grp[0][k.name]) for k in keys)) for g, grp in groups.items()
    ]
    selected = series if series in groups else next(iter(groups))
    group = groups[selected]
    shapes = Counter(len(str(r[period.name])) for r in group)
    shape = max(shapes, key=lambda s: (shapes[s], s))
    points = sorted(
        (str(r[period.name]), float(r[measure.name]))
        for r in group
        if len(str(r[period.name])) == shape and r[measure.name] is not None
    )
    if len(points) < 2:
        return None
    unit = group[0].get("unit") if "unit" in names else None
    title = dict(options)[selected] + (f"（{unit}）" if unit else "")
    return Chart("line", _line(points, title), title, options, selected, len(points))


def _line(points: list[tuple[str, float]], title: str) -> str:
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    span = (hi - lo) or abs(hi) or 1.0
    lo, hi = lo - span * 0.05, hi + span * 0.05
    n = len(points)

    def x(i: int) -> float:
        return LEFT + i * (W - LEFT - PAD) / (n - 1)

    def y(v: float) -> float:
        return H - PAD - (v - lo) * (H - 2 * PAD) / (hi - lo)

    path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    dots = "".join(
        f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5"><title>{escape(p)}: {v:g}</title>'
        "</circle>"
        for i, (p, v) in enumerate(points)
    )
    grid = "".join(
        f'<line x1="{LEFT}" x2="{W - PAD}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
        f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>'
        for v in (lo + (hi - lo) * k / 4 for k in range(5))
    )
    step = max(1, math.ceil(n / 8))
    ticks = "".join(
        f'<text x="{x(i):.1f}" y="{H - PAD + 18}" text-anchor="middle">{escape(p)}</text>'
        for i, (p, _) in enumerate(points)
        if i % step == 0 or i == n - 1
    )
    body = f'{grid}<polyline points="{path}" class="series"/>{dots}{ticks}'
    return _svg(body, title)


def categories(schema: ResourceSchema, rows: Sequence[dict[str, Any]]) -> Chart | None:
    fields = served_fields(schema)
    field = next(
        (
            f
            for f in fields
            if f.type == "string"
            and (f.enum or f.code_list)
            and f.name not in schema.primary_key
            and f.code_list != "GB/T 2260"
        ),
        None,
    ) or next((f for f in fields if f.code_list == "GB/T 2260"), None)
    if field is None or not rows:
        return None
    counts = Counter(_label(field, r[field.name]) for r in rows if r[field.name] is not None)
    top = counts.most_common(10)
    if not top:
        return None
    peak = top[0][1]
    bar_h = (H - 20) / len(top)
    label_w = 150
    bars = "".join(
        f'<text x="{label_w - 6}" y="{10 + i * bar_h + bar_h * 0.6:.1f}" text-anchor="end">'
        f"{escape(name[:12])}</text>"
        f'<rect x="{label_w}" y="{10 + i * bar_h + 2:.1f}" height="{bar_h - 4:.1f}" '
        f'width="{(W - label_w - 60) * n / peak:.1f}" class="bar"><title>{escape(name)}: {n}'
        f"</title></rect>"
        f'<text x="{label_w + (W - label_w - 60) * n / peak + 6:.1f}" '
        f'y="{10 + i * bar_h + bar_h * 0.6:.1f}">{n}</text>'
        for i, (name, n) in enumerate(top)
    )
    return Chart("bar", _svg(bars, field.title), field.title, [], None, sum(counts.values()))


def point_map(
    schema: ResourceSchema,
    rows: Sequence[dict[str, Any]],
    landmarks: Sequence[tuple[float, float, str]] = (),
) -> Chart | None:
    """Points of the rows, over labelled landmarks (e.g. district centres) for orientation."""
    names = {f.name for f in served_fields(schema)}
    if not {"longitude", "latitude"} <= names:
        return None
    pts = [
        (float(r["longitude"]), float(r["latitude"]), str(r.get("name") or ""))
        for r in rows
        if r.get("longitude") is not None and r.get("latitude") is not None
    ]
    if not pts:
        return None
    marks_at = [*pts, *landmarks] if len(pts) > 30 else pts
    lons = [p[0] for p in marks_at]
    lats = [p[1] for p in marks_at]
    mid_lat = math.radians((min(lats) + max(lats)) / 2)
    # Equirectangular with the mid-latitude's scale: distances look right at city scale.
    xs = [lon * math.cos(mid_lat) for lon in lons]
    span = max(max(xs) - min(xs), max(lats) - min(lats), 1e-6)
    scale = min((W - 2 * PAD) / span, (H * 2 - 2 * PAD) / span)
    height = min(H * 2, int((max(lats) - min(lats)) * scale + 2 * PAD))

    def px(lon: float, lat: float) -> tuple[float, float]:
        return (
            PAD + (lon * math.cos(mid_lat) - min(xs)) * scale,
            height - PAD - (lat - min(lats)) * scale,
        )

    labelled = len(pts) <= 30
    marks = []
    if not labelled:
        for lon, lat, name in landmarks:
            x, y = px(lon, lat)
            marks.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="lm"/>'
                f'<text x="{x + 5:.1f}" y="{y - 4:.1f}" class="lm">{escape(name)}</text>'
            )
    for lon, lat, name in pts:
        x, y = px(lon, lat)
        marks.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{4 if labelled else 2}" class="pt">'
            f"<title>{escape(name)} ({lon:.5f}, {lat:.5f})</title></circle>"
        )
        if labelled and name:
            marks.append(f'<text x="{x + 6:.1f}" y="{y + 4:.1f}">{escape(name)}</text>')
    frame = f'<rect x="1" y="1" width="{W - 2}" height="{height - 2}" class="frame"/>'
    svg = (
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="map" '
        f'xmlns="http://www.w3.org/2000/svg" class="chart map">{frame}{"".join(marks)}</svg>'
    )
    return Chart("map", svg, "map", [], None, len(pts))
