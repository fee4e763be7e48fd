"""The staff console in headless Chromium (Debian's) against a real `hub serve`: a provider
approves an application with fewer fields and the applicant's next API call sees only those; an
operator reads a quarantined batch's problems, the provider downloads the refused rows, re-sends
a fixed file and the console shows it accepted; every main page is axe-core clean at "serious"
and above, at 375 px and at desktop width. Screenshots as in the portal's browser tests."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import text

from exchange.core import signing
from exchange.core.db import session_scope
from exchange.core.runtime import build_runtime
from exchange.core.signing import KeyPair
from exchange.directory import keys as key_sets
from exchange.directory import repository as directory
from exchange.directory import service as directory_service
from exchange.platforms.exchange.models import Connector
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access.principal import Role
from exchange.seed import push_table
from tests.builders import arrow_bytes, indicators
from tests.platforms.open_data.conftest import LivePortal
from tests.platforms.sharing.builders import PASSWORD, PURPOSE

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS = ROOT / "docs" / "screenshots"
SERIOUS = {"serious", "critical"}


@dataclass
class World:
    url: str
    node: str
    client_id: str
    secret: str
    connector_id: uuid.UUID
    keys: KeyPair
    connector_dept: str
    clients: dict[str, tuple[str, str]]
    live: LivePortal


@pytest.fixture(scope="module")
def world(live_portal: LivePortal) -> World:
    """Console users of each role, a consumer department (民政局) with an API client, and a
    statistics bureau connector, written into the live node's database."""
    rt = build_runtime(live_portal.settings)
    node = live_portal.settings.node_code
    keys = KeyPair.generate()
    with session_scope(rt.sessions) as s:
        me = directory.get_node(s, node)
        assert me is not None
        directory_service.ensure_department(s, me, "MZ", "民政局")
        directory_service.ensure_department(s, me, "JY", "教育局")
        s.flush()
        for name, role, dept in [
            ("ga_clerk", Role.department, "GA"),
            ("tj_clerk", Role.department, "TJ"),
            ("jy_clerk", Role.department, "JY"),
            ("op1", Role.operator, None),
            ("audit1", Role.auditor, None),
            ("admin1", Role.admin, None),
        ]:
            credentials.create_user(
                s, node, username=name, password=PASSWORD, role=role, department=dept
            )
        client, secret = credentials.create_client(
            s, node, name="低保系统", role=Role.department, department="MZ", by="test"
        )
        jy, jy_secret = credentials.create_client(
            s, node, name="学籍系统", role=Role.department, department="JY", by="test"
        )
        ga, ga_secret = credentials.create_client(
            s, node, name="人口库", role=Role.department, department="GA", by="test"
        )
        tj = directory.get_department(s, node, "TJ")
        assert tj is not None
        connector = Connector(
            department_id=tj.id, name="TJ 前置机", public_key=keys.public_b64, state="active"
        )
        s.add(connector)
        s.flush()
        key_sets.add(s, key_sets.KeyOwner(key_sets.CONNECTOR, str(connector.id)), keys.public_b64)
        ids = (str(client.id), connector.id)
        others = {"JY": (str(jy.id), jy_secret), "GA": (str(ga.id), ga_secret)}
    rt.close()
    return World(live_portal.url, node, ids[0], secret, ids[1], keys, "TJ", others, live_portal)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run scripts/ensure-test-tools", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _page(browser: Browser, world: World, width: int = 1280) -> Page:
    context = browser.new_context(
        base_url=world.url, viewport={"width": width, "height": 900}, accept_downloads=True
    )
    p = context.new_page()
    p.set_default_timeout(15_000)
    return p


def sign_in(page: Page, username: str) -> None:
    page.goto("/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("nav")).to_be_visible()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("HUB_UPDATE_SCREENSHOTS") == "1" or not (DOCS / name).exists():
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / name)


def accessible(page: Page) -> None:
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert not serious, [(v["id"], v["help"], len(v["nodes"])) for v in serious]


def _api(world: World, department: str = "MZ") -> httpx.Client:
    http = httpx.Client(base_url=world.url, timeout=30)
    client_id, secret = (
        (world.client_id, world.secret) if department == "MZ" else world.clients[department]
    )
    token = http.post(
        "/sharing/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
        },
    ).json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def _push(world: World, table: pa.Table) -> httpx.Response:
    data = arrow_bytes(table)
    sha = hashlib.sha256(data).hexdigest()
    batch_id = uuid.uuid4()
    origin = f"{world.node}/{world.connector_dept}/{world.connector_id}"
    target = f"/exchange/v1/batches/{batch_id}"
    headers = {
        "Authorization": signing.authorization_header(
            str(world.connector_id), world.keys, "PUT", target, sha
        ),
        "Content-Type": "application/vnd.apache.arrow.stream",
        "X-Batch-Resource": "macro_indicator",
        "X-Batch-SHA256": sha,
        "X-Batch-Signature": world.keys.sign(
            signing.batch_message(str(batch_id), "macro_indicator", sha, origin)
        ),
    }
    return httpx.put(f"{world.url}{target}", content=data, headers=headers, timeout=60)


def test_a_provider_approves_fewer_fields_and_the_api_shows_only_those(
    browser: Browser, world: World
) -> None:
    api = _api(world)
    body = {
        "resource": "population",
        "purpose": "核验低保申请人身份",
        "legal_basis": "《社会救助暂行办法》第十一条",
        "fields": ["id_number", "name", "gender", "household_division", "phone", "status"],
        "plain_fields": [],
        "duration_days": 60,
    }
    app = api.post("/sharing/v1/applications", json=body).json()
    assert app["status"] == "submitted"
    page = _page(browser, world)
    sign_in(page, "ga_clerk")
    page.click("nav >> text=申请 Applications")
    expect(page.locator("h1")).to_contain_text("Applications to review")
    accessible(page)
    screenshot(page, "console-applications.png")
    page.click(f"a[href='/console/applications/{app['id']}']")
    page.click("text=受理 Take up for review")
    expect(page.locator(".notice")).to_contain_text("Taken up")
    for field in ("gender", "household_division", "phone"):
        page.uncheck(f"input[name=fields][value={field}]")
    page.fill("#duration_days", "30")
    accessible(page)
    screenshot(page, "console-approve.png")
    page.click("text=批准 Approve >> nth=-1")
    expect(page.locator(".notice")).to_contain_text("Approved")
    row = api.get("/sharing/v1/resources/population/records", headers=PURPOSE).json()
    items = row.get("items", [])
    assert items, row
    assert {k for k in items[0] if not k.startswith("_")} <= {"id_number", "name", "status"}
    page.click("nav >> text=授权 Grants")
    expect(page.locator("table").first).to_contain_text("MZ")
    accessible(page)
    screenshot(page, "console-grants.png")


def test_an_operator_reads_the_problems_and_the_provider_resends_a_fixed_file(
    browser: Browser, world: World
) -> None:
    bad = indicators(4).set_column(
        1, "division", pa.array(["330106000000", "339999000000", "1", "330106000000"])
    )
    refused = _push(world, bad)
    assert refused.status_code == 422, refused.text
    batch_id = refused.json()["batch"]["batch_id"]
    operator = _page(browser, world)
    sign_in(operator, "op1")
    operator.goto("/console/quarantine?only=quarantined")
    operator.click(f"a[href='/console/batches/{batch_id}']")
    expect(operator.locator("h2", has_text="Every problem")).to_be_visible()
    expect(operator.locator("table").nth(1)).to_contain_text("division")
    assert operator.locator("a[href$='refused.csv']").count() == 0
    accessible(operator)
    screenshot(operator, "console-quarantined-batch.png")
    provider = _page(browser, world, width=375)
    sign_in(provider, "tj_clerk")
    provider.goto(f"/console/batches/{batch_id}")
    with provider.expect_download() as download:
        provider.click("a[href$='refused.csv']")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "339999000000" in text and text.count("\n") == 3  # a header and two rows
    fixed = _push(world, indicators(4))
    assert fixed.status_code == 201, fixed.text
    provider.goto("/console/quarantine")
    latest = provider.locator(f"a[href='/console/batches/{fixed.json()['batch_id']}']")
    expect(latest).to_be_visible()
    expect(latest.locator("xpath=ancestor::tr")).to_contain_text("accepted")
    accessible(provider)
    screenshot(provider, "console-batches-375.png")
    latest.click()
    expect(provider.locator("ol")).to_contain_text("signature verified")
    accessible(provider)


@pytest.mark.parametrize("width", [375, 1280])
def test_each_roles_pages_are_accessible_and_fit(
    browser: Browser, world: World, width: int
) -> None:
    pages = {
        "ga_clerk": [
            "/console/",
            "/console/lookup",
            "/console/applications",
            "/console/grants",
            "/console/clients",
            "/console/catalog",
            "/console/disputes",
            "/console/quarantine",
        ],
        "op1": [
            "/console/operations",
            "/console/connectors",
            "/console/quarantine",
            "/console/disputes",
        ],
        "audit1": ["/console/audit"],
        "admin1": ["/console/admin"],
    }
    for user, urls in pages.items():
        page = _page(browser, world, width)
        sign_in(page, user)
        for url in urls:
            page.goto(url)
            accessible(page)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (user, url, width, overflow)
        page.context.close()


def test_a_dispute_is_raised_marked_in_the_api_fixed_by_a_batch_and_closed(
    browser: Browser, world: World
) -> None:
    consumer, provider = _api(world, "JY"), _api(world, "GA")
    body = {
        "resource": "population",
        "purpose": "核验入学儿童户籍",
        "legal_basis": "《义务教育法》第十二条",
        "fields": ["id_number", "name", "household_division", "status"],
        "plain_fields": [],
        "duration_days": 30,
    }
    app = consumer.post("/sharing/v1/applications", json=body).json()
    approved = provider.post(f"/sharing/v1/applications/{app['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    rt = build_runtime(world.live.settings)
    schema = rt.schemas["population"]
    with rt.sessions() as s:
        row = dict(
            s.execute(text("SELECT * FROM ds_population WHERE NOT _deleted LIMIT 1"))
            .mappings()
            .one()
        )
    key = row["id_number"]
    page = _page(browser, world, width=375)
    sign_in(page, "jy_clerk")
    page.click("nav >> text=异议 Disputes")
    page.select_option("#resource", "population")
    page.fill("#key", key)
    page.fill("#field", "name")
    page.fill("#claim", "姓名与学籍登记不一致")
    page.fill("#evidence", "户口簿复印件，案卷 JY-2026-031")
    page.click("text=提交 Raise")
    expect(page.locator(".notice")).to_contain_text("Dispute raised")
    expect(page.locator("table").first).to_contain_text("处理中 open")
    accessible(page)
    record = consumer.get(f"/sharing/v1/resources/population/records/{key}", headers=PURPOSE)
    marks = record.json()["record"]["_disputes"]
    assert [(m["field"], m["claim"]) for m in marks] == [("name", "姓名与学籍登记不一致")]
    fixed = {f.name: row[f.name] for f in schema.fields} | {"name": row["name"] + "正"}
    result = push_table(
        rt, "population", pa.Table.from_pylist([fixed], schema=schema.arrow_schema())
    )
    rt.close()
    assert result["status"] == "accepted", result
    page.reload()
    expect(page.locator("table").first).to_contain_text("已更正 fixed")
    screenshot(page, "console-disputes-375.png")
    record = consumer.get(f"/sharing/v1/resources/population/records/{key}", headers=PURPOSE)
    assert "_disputes" not in record.json()["record"]
