import re

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.both_backends


def test_home_lists_open_and_restricted_datasets_never_closed(
    client: TestClient, loaded: dict[str, int]
) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "宏观经济指标" in page.text and "法人基础信息" in page.text
    assert "人口基础信息" not in page.text and "电子证照" not in page.text  # closed (禁止开放)
    assert "公共信用信息" in page.text  # restricted (受限开放): listed, marked as such
    assert "需申请" in page.text
    assert re.search(r"5 个数据集 · 4 个提供部门", page.text)
    names = client.get("/api/3/action/package_list").json()
    assert names["success"] is True
    assert set(names["result"]) == {
        "credit_record",
        "geo_address",
        "geo_division",
        "legal_person",
        "macro_indicator",
    }


def test_home_topics_link_to_search_with_counts(client: TestClient, city: None) -> None:
    page = client.get("/")
    assert 'href="/datasets?topic=%E7%A9%BA%E9%97%B4%E5%9C%B0%E7%90%86">空间地理 (2)' in page.text
    assert "人口 (" not in page.text  # the population topic belongs to a closed dataset


def test_english_switch_sets_a_cookie_that_sticks(client: TestClient, city: None) -> None:
    english = client.get("/?lang=en")
    assert "Open Data Portal" in english.text and 'lang="en"' in english.text
    assert english.cookies.get("lang") == "en"
    again = client.get("/datasets")  # the cookie carries the choice
    assert "results" in again.text
    assert "个结果" not in again.text
    back = client.get("/?lang=zh")
    assert "公共数据开放平台" in back.text and 'lang="zh-CN"' in back.text


def test_unknown_language_falls_back_to_chinese(client: TestClient, city: None) -> None:
    page = client.get("/?lang=fr")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text
    assert "lang" not in page.cookies
