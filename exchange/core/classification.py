"""The 政务信息资源 classification tree (GB/T 21063.4): 类 / 项 / 目 / 细目.

Codes are decimal: a 类 is one digit, each level below adds two (1 > 101 > 10101 > 1010101).
This is the minimal tree the catalogue validates against; the divisions work ships the full one
with the same API.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    level: int  # 1 类, 2 项, 3 目, 4 细目
    parent: str | None


_TREE: dict[str, Category] = {
    c.code: c
    for c in (
        Category("1", "基础信息资源类", 1, None),
        Category("101", "人口", 2, "1"),
        Category("102", "法人", 2, "1"),
        Category("103", "自然资源和空间地理", 2, "1"),
        Category("104", "社会信用", 2, "1"),
        Category("105", "宏观经济", 2, "1"),
        Category("106", "电子证照与办事材料", 2, "1"),
        Category("2", "主题信息资源类", 1, None),
        Category("3", "部门信息资源类", 1, None),
    )
}


def find(code: str) -> Category | None:
    return _TREE.get(code)


def children(code: str | None) -> list[Category]:
    return sorted((c for c in _TREE.values() if c.parent == code), key=lambda c: c.code)


def path(code: str) -> list[Category]:
    """From the 类 down to `code`; empty for an unknown code."""
    found: list[Category] = []
    current = _TREE.get(code)
    while current is not None:
        found.append(current)
        current = _TREE.get(current.parent) if current.parent else None
    return found[::-1]
