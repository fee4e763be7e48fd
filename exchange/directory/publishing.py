"""Which catalogue fields a resource must carry before it is published (GB/T 21063 practice).

A schema file may be valid Table Schema and still lack what the catalogue requires of an entry
(its 资源代码, or the conditions of a 有条件共享 resource): such an entry is kept as a draft,
shown with what it lacks, and cannot be applied for or opened.
"""

from __future__ import annotations

from exchange.directory.models import Resource

REQUIRED = (
    ("title", "资源名称 title"),
    ("abstract", "资源摘要 abstract"),
    ("classification", "资源分类 classification"),
    ("identifier", "资源代码 identifier"),
    ("share_class", "共享类型 share_class"),
    ("open_class", "开放属性 open_class"),
    ("update_cycle", "更新周期 update_cycle"),
)


def missing_catalog_fields(r: Resource) -> list[str]:
    missing = [label for attr, label in REQUIRED if not (getattr(r, attr) or "").strip()]
    if r.provider_id is None:
        missing.append("提供方 provider")
    if not r.data_items:
        missing.append("信息项 data_items")
    elif any(not (item.get("title") or "").strip() for item in r.data_items):
        missing.append("信息项名称 data_items[].title")
    if r.share_class == "conditional" and not (r.share_conditions or "").strip():
        missing.append("共享条件 share_conditions")
    return missing


def publication_status(r: Resource) -> str:
    return "draft" if missing_catalog_fields(r) else "published"
