"""The government information resource classification (类 / 项 / 目 / 细目).

The tree follows GB/T 21063.4 and the 国家政务信息资源目录编制指南: three 类 (base, thematic and
departmental resources), 项 under each, 目 and 细目 below. Codes are decimal and positional: a 类
is one digit, each level below adds two (1 -> 101 -> 10101 -> 1010101), so a code's parent is the
code without its last two digits. The 主题 and 部门 items are the ones a city's catalogue uses
(杭州's departments); a node extends the tree by adding rows here, never by renumbering.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

LEVELS = {1: "类", 2: "项", 3: "目", 4: "细目"}


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    level: int  # 1 类, 2 项, 3 目, 4 细目
    parent: str | None


# (code, name) in tree order; the level and parent follow from the code's length.
_TREE: tuple[tuple[str, str], ...] = (
    ("1", "基础信息资源类"),
    ("101", "人口"),
    ("10101", "人口基本信息"),
    ("10102", "户籍登记"),
    ("10103", "居住登记"),
    ("10104", "出生和死亡登记"),
    ("102", "法人"),
    ("10201", "法人单位基本信息"),
    ("10202", "企业登记"),
    ("10203", "社会组织登记"),
    ("10204", "事业单位登记"),
    ("10205", "机关和群团组织"),
    ("103", "自然资源和空间地理"),
    ("10301", "行政区划"),
    ("10302", "地名地址"),
    ("10303", "土地资源"),
    ("10304", "矿产资源"),
    ("10305", "水资源"),
    ("10306", "森林资源"),
    ("10307", "基础测绘"),
    ("104", "社会信用"),
    ("10401", "企业信用"),
    ("10402", "自然人信用"),
    ("10403", "社会组织信用"),
    ("10404", "信用评价和联合奖惩"),
    ("105", "宏观经济"),
    ("10501", "国民经济核算"),
    ("10502", "财政收支"),
    ("10503", "金融运行"),
    ("10504", "价格"),
    ("10505", "对外贸易"),
    ("10506", "人口与就业统计"),
    ("106", "电子证照与办事材料"),
    ("10601", "个人证照"),
    ("10602", "法人证照"),
    ("10603", "办事材料"),
    ("2", "主题信息资源类"),
    ("201", "医疗健康"),
    ("20101", "医疗卫生机构"),
    ("2010101", "医院"),
    ("2010102", "基层医疗卫生机构"),
    ("2010103", "专业公共卫生机构"),
    ("20102", "医疗服务"),
    ("20103", "公共卫生"),
    ("20104", "医疗保障"),
    ("202", "社会保障"),
    ("20201", "社会保险"),
    ("20202", "就业创业"),
    ("20203", "社会救助"),
    ("20204", "养老服务"),
    ("203", "教育"),
    ("20301", "学校"),
    ("2030101", "幼儿园"),
    ("2030102", "中小学"),
    ("2030103", "高等院校和职业院校"),
    ("20302", "招生考试"),
    ("20303", "教育资源"),
    ("204", "交通出行"),
    ("20401", "公共交通"),
    ("20402", "道路交通"),
    ("20403", "停车"),
    ("20404", "客运和货运"),
    ("205", "生态环境"),
    ("20501", "大气环境"),
    ("20502", "水环境"),
    ("20503", "污染源监管"),
    ("20504", "自然生态"),
    ("206", "市场监管"),
    ("20601", "市场主体"),
    ("20602", "食品药品安全"),
    ("20603", "产品质量和特种设备"),
    ("20604", "知识产权"),
    ("207", "城乡建设"),
    ("20701", "城市管理"),
    ("20702", "房屋和住房保障"),
    ("20703", "市政设施"),
    ("20704", "规划建设"),
    ("208", "文化旅游"),
    ("20801", "文化设施"),
    ("20802", "旅游资源"),
    ("20803", "文物保护"),
    ("209", "公共安全"),
    ("20901", "社会治安"),
    ("20902", "应急管理"),
    ("20903", "安全生产"),
    ("20904", "消防救援"),
    ("210", "农业农村"),
    ("21001", "农业生产"),
    ("21002", "农村发展"),
    ("21003", "林业和水利"),
    ("211", "财税金融"),
    ("21101", "税收"),
    ("21102", "财政预决算"),
    ("21103", "金融服务"),
    ("212", "民生服务"),
    ("21201", "社区服务"),
    ("21202", "便民服务"),
    ("21203", "公共服务设施"),
    ("213", "商贸流通"),
    ("21301", "商贸企业"),
    ("21302", "消费市场"),
    ("214", "科技创新"),
    ("215", "气象服务"),
    ("216", "机构团体"),
    ("3", "部门信息资源类"),
    ("301", "公安"),
    ("30101", "户政管理"),
    ("30102", "交通管理"),
    ("30103", "出入境管理"),
    ("302", "市场监督管理"),
    ("30201", "登记注册"),
    ("30202", "监督检查"),
    ("303", "规划和自然资源"),
    ("30301", "国土空间规划"),
    ("30302", "不动产登记"),
    ("304", "卫生健康"),
    ("305", "教育"),
    ("306", "人力资源和社会保障"),
    ("30601", "社会保险经办"),
    ("30602", "人才和职业技能"),
    ("307", "民政"),
    ("30701", "社会事务"),
    ("30702", "婚姻登记"),
    ("308", "交通运输"),
    ("309", "生态环境"),
    ("310", "住房保障和房产管理"),
    ("311", "城市管理"),
    ("312", "文化广电旅游"),
    ("313", "统计"),
    ("314", "税务"),
    ("315", "医疗保障"),
    ("316", "农业农村"),
    ("317", "林业水利"),
    ("318", "商务"),
    ("319", "应急管理"),
    ("320", "数据资源管理"),
    ("321", "发展和改革"),
    ("322", "经济和信息化"),
    ("323", "财政"),
    ("324", "司法行政"),
    ("325", "气象"),
    ("326", "体育"),
    ("327", "退役军人事务"),
)


def _level(code: str) -> int:
    return (len(code) + 1) // 2


def _parent(code: str) -> str | None:
    return code[:-2] if len(code) > 1 else None


@cache
def _index() -> dict[str, Category]:
    return {c: Category(c, name, _level(c), _parent(c)) for c, name in _TREE}


def find(code: str) -> Category | None:
    return _index().get(code)


def children(code: str | None) -> list[Category]:
    """The categories directly below `code` in code order; the three 类 for None."""
    return sorted((c for c in _index().values() if c.parent == code), key=lambda c: c.code)


def path(code: str) -> list[Category]:
    """`code` and every category above it, root first; empty for a code outside the tree."""
    out: list[Category] = []
    step: str | None = code
    while step is not None and (c := find(step)) is not None:
        out.append(c)
        step = c.parent
    return out[::-1] if out and out[-1].parent is None else []


def label(code: str, sep: str = " / ") -> str:
    """The names along `code`'s path (基础信息资源类 / 人口), for display. A value that is not a
    code of the tree (a free-text classification catalogued before the tree existed) is shown
    as it is."""
    names = [c.name for c in path(code)]
    return sep.join(names) if names else code
