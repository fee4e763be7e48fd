"""The portal's two languages: Chinese (default) and English (`?lang=en`, then a cookie).

Catalogue content (titles, abstracts) is published in Chinese only; the interface, the code
lists shown to visitors and the quality checks are translated.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

_TEXT: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "site": ("公共数据开放平台", "Open Data Portal"),
    "bureau": ("大数据管理局", "Big Data Bureau"),
    "home": ("首页", "Home"),
    "datasets": ("数据目录", "Datasets"),
    "developers": ("开发者", "Developers"),
    "search": ("搜索", "Search"),
    "search_placeholder": (
        "搜索数据集，如：人口、经济、企业",
        "Search datasets, e.g. 人口, 经济, 企业",
    ),
    "featured": ("推荐数据集", "Featured datasets"),
    "recent": ("最近更新", "Recently updated"),
    "topics": ("主题", "Topics"),
    "stats_datasets": ("个数据集", "datasets"),
    "stats_providers": ("个提供部门", "providers"),
    "results": ("个结果", "results"),
    "no_results": ("没有找到匹配的数据集。", "No dataset matches."),
    "clear_filters": ("清除筛选", "Clear filters"),
    "sort": ("排序", "Sort"),
    "sort_relevance": ("相关度", "Relevance"),
    "sort_updated": ("最近更新", "Recently updated"),
    "sort_title": ("名称", "Title"),
    "sort_quality": ("质量评分", "Quality score"),
    "facet_provider": ("提供部门", "Provider"),
    "facet_topic": ("主题", "Topic"),
    "facet_format": ("格式", "Format"),
    "facet_update_cycle": ("更新周期", "Update cycle"),
    "facet_open_class": ("开放属性", "Access"),
    "facet_tag": ("标签", "Tag"),
    "provider": ("提供部门", "Provider"),
    "classification": ("资源分类", "Classification"),
    "identifier": ("资源代码", "Identifier"),
    "licence": ("许可协议", "Licence"),
    "no_licence": ("未声明", "not declared"),
    "update_cycle": ("更新周期", "Update cycle"),
    "last_updated": ("最近更新", "Last updated"),
    "never_updated": ("尚无数据", "no data yet"),
    "published": ("发布日期", "Published"),
    "rows": ("数据量", "Rows"),
    "rows_about": ("约 {n} 行", "about {n} rows"),
    "quality": ("质量评分", "Quality score"),
    "overdue": ("更新逾期", "Overdue"),
    "overdue_help": ("未按声明的更新周期更新", "not updated within its declared cycle"),
    "needs_application": ("需申请", "Application required"),
    "restricted_note": (
        "该数据集为受限开放数据，需提交使用申请并签署协议，经提供部门审核通过后方可获取数据。",
        "This dataset is open on application: submit a request and sign the agreement; the "
        "provider reviews it before the data is released to you.",
    ),
    "apply": ("申请使用", "Apply for access"),
    "downloads": ("数据下载", "Downloads"),
    "preview": ("数据预览", "Preview"),
    "next_page": ("下一页", "Next"),
    "prev_page": ("上一页", "Previous"),
    "first_page": ("首页", "First"),
    "no_rows": ("暂无数据。", "No rows yet."),
    "dictionary": ("数据项（数据字典）", "Data dictionary"),
    "field_name": ("字段名", "Field"),
    "field_title": ("名称", "Title"),
    "field_type": ("类型", "Type"),
    "field_desc": ("说明", "Description"),
    "withheld": (
        "以下字段涉及个人信息或不宜公开，不予开放：",
        "These fields hold personal or non-public data and are not published:",
    ),
    "chart": ("图表", "Chart"),
    "map": ("地图", "Map"),
    "map_note": ("前 {n} 个点位，不含底图。", "First {n} points, without a base map."),
    "sample_note": ("基于前 {n} 行统计。", "Counted over the first {n} rows."),
    "series": ("指标序列", "Series"),
    "show": ("显示", "Show"),
    "api": ("API 接口", "API"),
    "api_page": ("API 调用示例", "API examples"),
    "feedback": ("问题反馈", "Report a problem"),
    "feedback_kind": ("问题类型", "Kind"),
    "feedback_message": ("问题描述", "Description"),
    "feedback_contact": ("联系方式（选填，不公开）", "Contact (optional, never shown)"),
    "feedback_send": ("提交反馈", "Send"),
    "feedback_sent": ("反馈已提交，提供部门会尽快答复。", "Thank you: the provider will answer."),
    "feedback_list": ("反馈与答复", "Reports and answers"),
    "feedback_none": ("暂无反馈。", "No reports yet."),
    "answer": ("答复", "Answer"),
    "status_open": ("待答复", "Awaiting answer"),
    "status_answered": ("已答复", "Answered"),
    "kind_error": ("数据错误", "Wrong data"),
    "kind_missing": ("数据缺失", "Missing data"),
    "kind_outdated": ("更新不及时", "Out of date"),
    "kind_other": ("其他", "Other"),
    "metadata": ("元数据", "Metadata"),
    "catalog_downloads": ("整个目录的元数据下载", "Whole-catalogue metadata"),
    "api_keys": ("API 密钥（可选）", "API keys (optional)"),
    "api_key_created": ("您的 API 密钥（只显示一次）：", "Your API key (shown once):"),
    "api_key_label": ("用途", "Purpose"),
    "api_key_contact": ("联系邮箱", "Contact e-mail"),
    "api_key_request": ("申请密钥", "Request a key"),
    "error": ("出错了", "Something went wrong"),
    "back": ("返回", "Back"),
    "check_standards": ("数据通过标准检查的比例", "Share of rows passing the standards checks"),
    "check_complete": ("目录必填项齐全", "Every required catalogue field given"),
    "check_described": ("描述不少于 50 字", "Description of at least 50 characters"),
    "check_documented": ("数据项均有中文名称", "Every field is documented"),
    "check_licensed": ("声明了开放许可协议", "An open licence is declared"),
    "check_keywords": ("有关键词标签", "Keywords given"),
    "check_cycle": ("声明了更新周期", "Update cycle declared"),
    "open": ("无条件开放", "Open"),
    "restricted": ("受限开放", "Open on application"),
    "cycle_realtime": ("实时", "Real time"),
    "cycle_daily": ("每日", "Daily"),
    "cycle_weekly": ("每周", "Weekly"),
    "cycle_monthly": ("每月", "Monthly"),
    "cycle_quarterly": ("每季度", "Quarterly"),
    "cycle_yearly": ("每年", "Yearly"),
    "cycle_irregular": ("不定期", "Irregular"),
    "staff": ("部门工作台", "Department desk"),
    "staff_feedback": ("待处理的数据反馈", "Reports to answer"),
    "staff_answer": ("提交答复", "Send answer"),
    "lang_switch": ("English", "中文"),
}


def text(key: str, lang: str) -> str:
    pair = _TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        s = text(key, lang)
        return s.format(**values) if values else s

    return t


def pick(lang: str | None, cookie: str | None) -> str:
    for candidate in (lang, cookie):
        if candidate in LANGS:
            return candidate
    return DEFAULT_LANG
