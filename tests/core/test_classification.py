from __future__ import annotations

import pytest

from exchange.core import classification
from exchange.core.classification import Category

REQUIRED = {
    "1": "基础信息资源类",
    "101": "人口",
    "102": "法人",
    "103": "自然资源和空间地理",
    "104": "社会信用",
    "105": "宏观经济",
    "106": "电子证照与办事材料",
    "2": "主题信息资源类",
    "3": "部门信息资源类",
}


def _all() -> list[Category]:
    out, todo = [], classification.children(None)
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(classification.children(c.code))
    return out


@pytest.mark.parametrize(("code", "name"), REQUIRED.items())
def test_the_guide_s_base_and_top_categories_have_their_codes(code: str, name: str) -> None:
    c = classification.find(code)
    assert c is not None and c.name == name and c.level == (len(code) + 1) // 2


def test_the_roots_are_the_three_classes() -> None:
    assert [c.code for c in classification.children(None)] == ["1", "2", "3"]
    assert all(c.level == 1 and c.parent is None for c in classification.children(None))


def test_every_code_is_decimal_and_hangs_on_its_prefix() -> None:
    cats = _all()
    assert len({c.code for c in cats}) == len(cats) > 100
    for c in cats:
        assert c.code.isdigit() and len(c.code) in (1, 3, 5, 7)
        assert c.level in (1, 2, 3, 4)
        if c.parent is not None:
            parent = classification.find(c.parent)
            assert parent is not None and parent.level == c.level - 1
            assert c.code[:-2] == parent.code


def test_thematic_and_departmental_items_have_sub_items() -> None:
    themes = {c.name: c.code for c in classification.children("2")}
    for name in ("医疗健康", "社会保障", "教育", "交通出行", "生态环境", "市场监管", "城乡建设"):
        assert name in themes
    with_items = [c for c in classification.children("2") if classification.children(c.code)]
    assert len(with_items) >= 8
    assert len(classification.children("3")) >= 20
    assert any(c.level == 4 for c in _all())


def test_a_path_runs_from_the_class_down() -> None:
    names = [c.name for c in classification.path("2010101")]
    assert names == ["主题信息资源类", "医疗健康", "医疗卫生机构", "医院"]
    assert classification.label("101") == "基础信息资源类 / 人口"


@pytest.mark.parametrize("code", ["", "4", "199", "10", "1019", "基础信息资源/法人"])
def test_a_code_outside_the_tree_is_found_nowhere(code: str) -> None:
    assert classification.find(code) is None
    assert classification.path(code) == []
    assert classification.children(code) == []


def test_a_free_text_value_is_shown_as_it_is() -> None:
    assert classification.label("主题信息资源/测试") == "主题信息资源/测试"
