"""Open-data portal at catalogue and table scale, on a throwaway PostgreSQL, over real HTTP.

    python -m bench.portal [--datasets 10000] [--rows 10000000] [--requests 200]

Builds a catalogue of N synthetic datasets (Chinese titles, 30 providers, tags, topics) and
a geo_address table of M rows, starts `hub serve` and measures, one client at a time:
search (HTML page with facets, and CKAN package_search), dataset page render, the first
preview page of the big table, and the CSV download throughput next to pyarrow writing the
same rows to CSV in this process. The big table is loaded with COPY, not through the intake
(the intake's throughput has its own benchmarks). Takes a few minutes at the default sizes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pydantic import SecretStr
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from exchange.core.db import session_scope, utcnow
from exchange.core.runtime import build_runtime
from exchange.core.settings import Environment, Settings
from exchange.demo import seed_demo_city
from exchange.directory.models import Department, Resource
from exchange.lifecycle import prepare_database
from exchange.platforms.open_data.feedback.service import issue_api_key
from exchange.platforms.open_data.portal.service import refresh_catalog
from exchange.testing.postgres import LocalPostgres, free_port

DOMAINS = [
    ("公交", "JT", "交通运输局"),
    ("地铁", "JT", "交通运输局"),
    ("停车", "JT", "交通运输局"),
    ("学校", "JY", "教育局"),
    ("幼儿园", "JY", "教育局"),
    ("医院", "WJ", "卫生健康委员会"),
    ("药品", "SCJG", "市场监督管理局"),
    ("企业", "SCJG", "市场监督管理局"),
    ("人口", "TJ", "统计局"),
    ("经济", "TJ", "统计局"),
    ("空气质量", "STHJ", "生态环境局"),
    ("水质", "STHJ", "生态环境局"),
    ("住房", "ZJ", "住房和城乡建设局"),
    ("公积金", "GJJ", "住房公积金管理中心"),
    ("社保", "RS", "人力资源和社会保障局"),
    ("就业", "RS", "人力资源和社会保障局"),
    ("旅游", "WGL", "文化广电旅游局"),
    ("体育", "TY", "体育局"),
    ("农业", "NY", "农业农村局"),
    ("气象", "QX", "气象局"),
    ("道路", "ZRZY", "规划和自然资源局"),
    ("垃圾分类", "CG", "城市管理局"),
    ("食品安全", "SCJG", "市场监督管理局"),
    ("税收", "SW", "税务局"),
    ("财政", "CZ", "财政局"),
]
KINDS = ["基本信息", "统计数据", "名录", "分布", "月度报表", "年度报告", "实时数据", "监测数据"]
PLACES = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区", "富阳区"]
CYCLES = ["daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]
QUERIES = ["人口", "经济", "企业", "公交", "医院 名录", "空气质量", "学校", "西湖区 停车", "天气"]


def catalogue(session: Session, node_code: str, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    depts: dict[str, uuid.UUID] = {}
    for _, code, name in DOMAINS:
        if code not in depts:
            found = session.scalars(
                select(Department).where(Department.node_code == node_code, Department.code == code)
            ).first()
            if found is None:
                found = Department(node_code=node_code, code=code, name=f"杭州市{name}")
                session.add(found)
                session.flush()
            depts[code] = found.id
    rows = []
    for i in range(n):
        domain, dept, _ = rng.choice(DOMAINS)
        kind, place = rng.choice(KINDS), rng.choice(PLACES)
        title = f"{place}{domain}{kind}"
        abstract = (
            f"{place}范围内{domain}相关的{kind}，包括名称、类别、所属区划、统计口径与更新时间等"
            f"字段，由主管部门按规定周期更新，供社会公众查询、下载和开发利用。编号{i}。"
        )
        rows.append(
            {
                "code": f"ds{i:05d}",
                "title": title,
                "abstract": abstract,
                "classification": f"主题信息资源/{domain}",
                "provider_id": depts[dept],
                "share_class": "unconditional",
                "open_class": rng.choices(["open", "restricted", "closed"], [7, 2, 1])[0],
                "update_cycle": rng.choice(CYCLES),
                "topic": domain,
                "tags": [domain, kind, place],
                "licence": rng.choice(["CC-BY-4.0", "CC-BY-4.0", None]),
                "data_items": [],
                "schema_sha256": hashlib.sha256(f"bench{i}".encode()).hexdigest(),
                "status": "published",
                "published_at": utcnow(),
                "last_updated_at": utcnow(),
                "row_count": rng.randint(10, 100_000),
            }
        )
    session.execute(insert(Resource), rows)


def address_chunk(start: int, n: int, rng: np.random.Generator) -> pa.Table:
    ids = np.arange(start, start + n)
    districts = np.array([f"3301{d:02d}000000" for d in (2, 5, 6, 8, 9, 10, 13, 14, 11)])
    kinds = np.array(["address", "school", "hospital", "service_centre", "park", "station"])
    streets = np.array([f"{s}路" for s in ("文三", "学院", "天目山", "延安", "解放", "庆春")])
    pick = rng.integers(0, len(districts), n)
    names = pc.binary_join_element_wise(
        pa.array(np.array(PLACES)[pick]),
        pa.array(streets[rng.integers(0, len(streets), n)]),
        pa.array((ids % 2000 + 1).astype(str)),
        "",
    )
    return pa.table(
        {
            "address_id": pa.array(np.char.add("3301", np.char.zfill(ids.astype(str), 12))),
            "kind": pa.array(
                kinds[rng.choice(len(kinds), n, p=[0.7, 0.08, 0.05, 0.05, 0.07, 0.05])]
            ),
            "name": pc.binary_join_element_wise(names, pa.array(["号"] * n), ""),
            "division": pa.array(districts[pick]),
            "longitude": pa.array(119.9 + rng.random(n) * 0.6),
            "latitude": pa.array(30.0 + rng.random(n) * 0.5),
            "_seq": pa.array(ids + 1),
            "_version": pa.array(np.ones(n, dtype=np.int32)),
            "_deleted": pa.array(np.zeros(n, dtype=bool)),
            "_batch_id": pa.array([str(uuid.UUID(int=0))] * n),
            "_recorded_at": pa.array(["2026-01-01 00:00:00+00"] * n),
            "_valid_from": pa.array(["2026-01-01 00:00:00+00"] * n),
        }
    )


def load_addresses(url: str, rows: int, chunk: int = 1_000_000) -> float:
    """COPY `rows` rows into ds_geo_address; returns seconds pyarrow spent writing the CSV."""
    import psycopg

    rng = np.random.default_rng(3)
    arrow_seconds = 0.0
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for start in range(0, rows, chunk):
            table = address_chunk(start, min(chunk, rows - start), rng)
            buf = io.BytesIO()
            began = time.perf_counter()
            pacsv.write_csv(table.select(table.column_names[:6]), buf)
            arrow_seconds += time.perf_counter() - began
            buf = io.BytesIO()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            with cur.copy(f"COPY ds_geo_address ({cols}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getbuffer())
            print(f"  loaded {start + table.num_rows:,} rows", flush=True)
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE ds_geo_address")
        cur.execute("CHECKPOINT")  # measure a settled server, not one still flushing the load
    return arrow_seconds


def timed(
    client: httpx.Client, paths: list[str], check: Callable[[httpx.Response], None]
) -> list[float]:
    out = []
    for path in paths:
        began = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - began) * 1000)
        check(r)
    return out


def ok(r: httpx.Response) -> None:
    if r.status_code != 200:
        raise RuntimeError(f"{r.request.url}: {r.status_code} {r.text[:300]}")


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--detail", action="store_true", help="per-query search timings")
    args = parser.parse_args(argv)

    pg = LocalPostgres()
    pg.start()
    proc = None
    root = Path(tempfile.mkdtemp(prefix="hub-bench-portal-"))
    try:
        url = pg.create_database("bench_portal")
        settings = Settings(
            env=Environment.test,
            secret_key=SecretStr("bench-secret-bench-secret-bench-secret"),
            database_url=url,
            var_dir=root / "var",
            store_url=(root / "payloads").as_uri(),
            relay_interval_s=0,
        )
        rt = build_runtime(settings)
        prepare_database(rt.engine, rt.schemas)
        began = time.perf_counter()
        with session_scope(rt.sessions) as session:
            seed_demo_city(session, settings, rt.schemas)
            catalogue(session, settings.node_code, args.datasets)
            refresh_catalog(session, rt.schemas)
            _, api_key = issue_api_key(session, label="benchmark", contact="bench@example.com")
        took = time.perf_counter() - began
        print(f"catalogue of {args.datasets:,} datasets indexed in {took:.1f} s")
        began = time.perf_counter()
        arrow_s = load_addresses(url, args.rows)
        print(f"{args.rows:,} geo_address rows loaded in {time.perf_counter() - began:.1f} s")
        with session_scope(rt.sessions) as session:
            session.execute(
                update(Resource)
                .where(Resource.code == "geo_address")
                .values(row_count=args.rows, last_updated_at=utcnow())
            )
            listed = (
                session.execute(
                    text(
                        "SELECT code FROM resource WHERE open_class <> 'closed' AND code LIKE 'ds%'"
                    )
                )
                .scalars()
                .all()
            )
        rt.close()

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update(
            HUB_ENV="test",
            HUB_SECRET_KEY=settings.secret_key.get_secret_value(),
            HUB_DATABASE_URL=url,
            HUB_VAR_DIR=str(root / "var"),
            HUB_STORE_URL=settings.resolved_store_url,
            HUB_RELAY_INTERVAL_S="0",
            HUB_LOG_LEVEL="WARNING",
        )
        hub = str(Path(sys.executable).with_name("hub"))
        proc = subprocess.Popen(
            [hub, "serve", "--port", str(port)],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        # An API key: the anonymous limit (120 calls a minute) would stop the benchmark.
        client = httpx.Client(base_url=base, timeout=600, headers={"X-CKAN-API-Key": api_key})
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("hub serve did not start")
            time.sleep(0.3)
        n = args.requests
        rng = random.Random(1)
        timed(client, ["/datasets?q=人口", "/datasets/geo_address", "/"], ok)  # warm up
        results: list[tuple[str, list[float], str]] = []
        searches = [f"/datasets?q={rng.choice(QUERIES)}" for _ in range(n)]
        search_ms = timed(client, searches, ok)
        results.append(("search page (HTML, facets)", search_ms, "p95 < 100"))
        if args.detail:
            by_query: dict[str, list[float]] = {}
            for path, ms in zip(searches, search_ms, strict=True):
                by_query.setdefault(path, []).append(ms)
            for path, values in sorted(by_query.items()):
                print(f"  {path:40} p50 {pct(values, 50):6.1f} max {max(values):6.1f}")
        apis = [
            "/api/3/action/package_search?q="
            + rng.choice(QUERIES)
            + '&facet.field=["organization","tags","res_format"]&fq=open_class:open'
            for _ in range(n)
        ]
        results.append(("package_search (CKAN, facets)", timed(client, apis, ok), "p95 < 100"))
        pages = [f"/datasets/{rng.choice(listed)}" for _ in range(n)]
        results.append(("dataset page (catalogue entry)", timed(client, pages, ok), "p95 < 50"))
        big = ["/datasets/geo_address"] * n
        results.append(("dataset page, 10M-row table", timed(client, big, ok), "p95 < 50"))
        first = ["/api/3/action/datastore_search?resource_id=geo_address&limit=20"] * n
        results.append(
            ("first preview page (datastore_search)", timed(client, first, ok), "p50 < 50")
        )

        began = time.perf_counter()
        size = lines = 0
        with client.stream("GET", "/datasets/geo_address/download.csv") as r:
            ok(r)
            for chunk in r.iter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
        download_s = time.perf_counter() - began

        print(f"\n{'measure':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target (ms)")
        for label, times, target in results:
            p50, p95 = pct(times, 50), pct(times, 95)
            print(f"{label:40} {p50:8.1f} {p95:8.1f} {max(times):8.1f}  {target}")
        rows = lines - 1
        print(
            f"\nCSV download: {rows:,} rows, {size / 1e6:,.0f} MB in {download_s:.1f} s "
            f"= {rows / download_s:,.0f} rows/s, {size / 1e6 / download_s:,.0f} MB/s"
        )
        print(
            f"pyarrow write_csv of the same rows in this process: {arrow_s:.1f} s "
            f"= {args.rows / arrow_s:,.0f} rows/s (download takes {download_s / arrow_s:.1f}x)"
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
