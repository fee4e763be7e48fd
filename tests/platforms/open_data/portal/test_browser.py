"""The portal in headless Chromium (Debian's, never a downloaded one), against `hub serve`.

Screenshots go to tests/artifacts/ on every run; docs/screenshots/ (shown in the README) are
rewritten when missing or when HUB_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.platforms.open_data.conftest import LivePortal

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
ROOT = Path(__file__).resolve().parents[4]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run scripts/ensure-test-tools", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, live_portal: LivePortal) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_portal.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    p = context.new_page()
    p.set_default_timeout(15_000)
    yield p
    context.close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("HUB_UPDATE_SCREENSHOTS") == "1" or not (DOCS / name).exists():
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / name)


def test_search_in_chinese_and_open_a_dataset(page: Page) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_contain_text("公共数据开放平台")
    screenshot(page, "home.png")
    page.fill("input[name=q]", "经济")
    page.press("input[name=q]", "Enter")
    results = page.locator("article.result")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("宏观经济指标")
    page.fill("input[name=q]", "企业")
    page.press("input[name=q]", "Enter")
    expect(page.locator("article.result h3")).to_have_text(["法人基础信息"])
    page.click("text=法人基础信息")
    expect(page.locator("#dataset-title")).to_have_text("法人基础信息")
    expect(page.locator("#preview-table tbody tr")).to_have_count(20)


def test_facets_narrow_the_results(page: Page) -> None:
    page.goto("/datasets")
    expect(page.locator("#total")).to_have_text("5")
    page.click('a[data-facet="format"][data-value="geojson"]')
    expect(page.locator("#total")).to_have_text("2")
    page.click('a[data-facet="format"][data-value="geojson"]')  # again: the filter is removed
    expect(page.locator("#total")).to_have_text("5")


def test_page_the_preview(page: Page) -> None:
    page.goto("/datasets/geo_address")
    first_cell = page.locator("#preview-table tbody tr:first-child td:first-child")
    first = first_cell.inner_text()
    page.click("#preview-next")
    expect(first_cell).not_to_have_text(first)
    second = first_cell.inner_text()
    assert second > first
    page.click("#preview-next")
    expect(first_cell).not_to_have_text(second)
    page.click("#preview-prev")
    expect(first_cell).to_have_text(second)
    page.click("#preview-prev")
    expect(first_cell).to_have_text(first)
    expect(page.locator("#preview-prev")).to_have_count(0)
    expect(page.locator("#map svg")).to_be_visible()
    screenshot(page, "dataset-map.png")


def _download(page: Page, fmt: str) -> bytes:
    with page.expect_download() as info:
        page.click(f'#downloads a[data-format="{fmt}"]')
    path = info.value.path()
    assert info.value.suggested_filename == f"geo_address.{fmt}"
    return Path(path).read_bytes()


def test_download_each_format_and_parse_it(page: Page) -> None:
    page.goto("/datasets/geo_address")
    rows = list(csv.DictReader(io.StringIO(_download(page, "csv").decode("utf-8-sig"))))
    assert len(rows) == 500 and set(rows[0]) >= {"address_id", "name", "longitude"}
    records = json.loads(_download(page, "json"))
    assert len(records) == 500
    table = pq.read_table(io.BytesIO(_download(page, "parquet")))
    assert table.num_rows == 500
    features = json.loads(_download(page, "geojson"))["features"]
    assert len(features) == 500 and features[0]["geometry"]["type"] == "Point"
    assert {r["address_id"] for r in rows} == {r["address_id"] for r in records}


def test_switch_language(page: Page) -> None:
    page.goto("/datasets/macro_indicator")
    expect(page.locator("h2#preview")).to_have_text("数据预览")
    expect(page.locator("#chart svg polyline")).to_be_visible()
    screenshot(page, "dataset.png")
    page.click("#lang-switch")
    expect(page.locator("h2#preview")).to_have_text("Preview")
    page.click("text=Datasets")  # the choice sticks on the next page
    expect(page.locator("#result-count")).to_contain_text("results")
    page.click("#lang-switch")
    expect(page.locator("#result-count")).to_contain_text("个结果")


def test_report_a_problem(page: Page) -> None:
    page.goto("/datasets/geo_division")
    page.select_option("#fb-kind", "missing")
    page.fill("#fb-message", "缺少新设立的街道的中心点坐标。")
    page.click("#feedback-form button[type=submit]")
    expect(page.locator("#feedback-sent")).to_be_visible()
    expect(page.locator("#feedback")).to_be_visible()
    expect(page.locator("text=缺少新设立的街道的中心点坐标。")).to_be_visible()
