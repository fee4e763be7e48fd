"""Rebuild exchange/core/data/divisions.csv from the Ministry of Civil Affairs' code list.

Inputs (all public): the year's list of county-level-and-above codes as `CODE NAME` lines
(yescallop/areacodes `data/YYYY.txt`, CC0, transcribed from the Ministry's 中华人民共和国县以上
行政区划代码), that project's `result.csv` (old code -> new codes, for centroids of renamed or
merged divisions), a CSV of centroids `adcode,name,longitude,latitude` (the old cpca table) and
the year the list stands at. Usage:

    python scripts/build_divisions.py 2025.txt result.csv adcodes.csv 2025-12-31
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "exchange" / "core" / "data" / "divisions.csv"

# Seats of Hangzhou's re-zoned districts (2021): the old table has none, or an old one (余杭's
# centroid there is 临平, the seat it left).
SEATS = {
    "330102": (120.171465, 30.250236),
    "330105": (120.150053, 30.314697),
    "330110": (119.978742, 30.273705),
    "330112": (119.724733, 30.233873),
    "330113": (120.299376, 30.419025),
    "330114": (120.493941, 30.322904),
}

# GB/T 2260 gives municipalities and provinces' directly administered counties no city-level
# row; the tree still needs one to hang them on (the same placeholders the statistics bureau
# lists).
PLACEHOLDERS = {"01": "市辖区", "02": "县", "90": "省直辖县级行政区划"}


def _names(codes_txt: str) -> dict[str, str]:
    lines = Path(codes_txt).read_text("utf-8").splitlines()
    names = {code: name.strip() for code, name in (line.split(maxsplit=1) for line in lines)}
    for code in list(names):
        city = code[:4] + "00"
        if code[4:] != "00" and city not in names and code[2:4] in PLACEHOLDERS:
            names[city] = PLACEHOLDERS[code[2:4]]
    return names


def _centroids(centroids_csv: str) -> dict[str, tuple[float, float]]:
    rows = csv.DictReader(Path(centroids_csv).read_text("utf-8").splitlines())
    return {
        r["adcode"][:6]: (float(r["longitude"]), float(r["latitude"]))
        for r in rows
        if r["longitude"] and r["name"] != "市辖区"
    }


def _predecessors(result_csv: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in csv.DictReader(Path(result_csv).read_text("utf-8-sig").splitlines()):
        for new in filter(None, r["新代码"].split(";")):
            out.setdefault(new.split("[")[0], []).append(r["代码"])
    return out


def main(codes_txt: str, result_csv: str, centroids_csv: str, as_of: str) -> None:
    names = _names(codes_txt)
    old = _centroids(centroids_csv)
    predecessors = _predecessors(result_csv)

    def centroid(code: str) -> tuple[float, float] | None:
        if names[code] in PLACEHOLDERS.values():
            return None
        if code in SEATS or code in old:
            return SEATS.get(code) or old[code]
        known = [old[p] for p in predecessors.get(code, []) if p in old]
        if not known:
            return None
        lon, lat = zip(*known, strict=True)
        return round(sum(lon) / len(lon), 6), round(sum(lat) / len(lat), 6)

    with OUT.open("w", encoding="utf-8", newline="") as f:
        f.write(
            f"# GB/T 2260 county-level-and-above divisions as the Ministry of Civil Affairs lists"
            f" them on {as_of} (中华人民共和国县以上行政区划代码; transcribed by"
            f" yescallop/areacodes, CC0). Centroids: the cpca 0.5.5 table where a division is"
            f" unchanged, its predecessors' mean where it was renamed or merged, the seat for"
            f" Hangzhou's re-zoned districts; empty for placeholders and where neither is known."
            f" Rebuilt by scripts/build_divisions.py.\n"
        )
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "longitude", "latitude"])
        for code in sorted(names):
            c = centroid(code)
            w.writerow([code.ljust(12, "0"), names[code], *(c or ("", ""))])


if __name__ == "__main__":
    main(*sys.argv[1:])
