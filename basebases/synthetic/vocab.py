"""Word pools: Faker zh_CN's own data read once, plus local vocabulary Faker does not have."""

from __future__ import annotations

from functools import cache

import numpy as np
from faker.providers.address.zh_CN import Provider as FakerAddress
from faker.providers.company.zh_CN import Provider as FakerCompany
from faker.providers.person.zh_CN import Provider as FakerPerson
from faker.providers.phone_number.zh_CN import Provider as FakerPhone

from exchange.core import divisions

SURNAMES: tuple[str, ...] = tuple(FakerPerson.last_names)
SURNAME_WEIGHTS = np.array(list(FakerPerson.last_names.values()), dtype=np.float64)
MALE_GIVEN: tuple[str, ...] = tuple(FakerPerson.first_names_male)
FEMALE_GIVEN: tuple[str, ...] = tuple(FakerPerson.first_names_female)

# Faker lacks the 16x/17x/19x ranges that carriers have issued since 2013.
PHONE_PREFIXES: tuple[int, ...] = (
    *FakerPhone.phonenumber_prefixes,
    *(166, 173, 175, 176, 177, 178, 183, 184, 191, 198, 199),
)

# GB/T 3304 groups as they are spread among Hangzhou's residents: about 1.5% are minorities,
# most often 土家族, 苗族, 畲族 (native to Zhejiang) and 布依族.
ETHNIC_SHARES: dict[str, float] = {
    "汉族": 98.45,
    "土家族": 0.25,
    "苗族": 0.25,
    "畲族": 0.15,
    "布依族": 0.14,
    "回族": 0.12,
    "侗族": 0.1,
    "壮族": 0.1,
    "彝族": 0.08,
    "满族": 0.08,
    "蒙古族": 0.04,
    "仡佬族": 0.03,
    "瑶族": 0.02,
    "白族": 0.02,
    "朝鲜族": 0.02,
    "水族": 0.02,
    "哈尼族": 0.02,
}
_RARE_SHARE = 0.001


@cache
def ethnic_pool() -> tuple[tuple[str, ...], np.ndarray]:
    names = divisions.ethnic_groups()
    unknown = set(ETHNIC_SHARES) - set(names)
    if unknown:
        raise RuntimeError(f"ethnic groups missing from the GB/T 3304 list: {sorted(unknown)}")
    weights = np.array([ETHNIC_SHARES.get(name, _RARE_SHARE) for name in names])
    return names, weights / weights.sum()


_PLACE_CHARS = (
    "文华古荡西溪天目紫金丰庆春秋塘河江月明凤起解放延安体育莫干学院教工之滨盛和东新建国中平"
    "海环城北南良渚临湖山桥湾林泉石云松竹梅兰青翠龙凤宝瑞祥安康福寿德兴隆昌永嘉"
)
_STREET_SUFFIXES = (*FakerAddress.street_suffixes, "大道", "巷")


@cache
def street_names(district_code: str, count: int = 48) -> tuple[str, ...]:
    """Street names of one district, the same whatever the seed, so that residents, companies
    and points of interest of a district share its streets."""
    rng = np.random.default_rng(int(district_code))
    names: dict[str, None] = {}
    while len(names) < count:
        a, b = rng.choice(len(_PLACE_CHARS), size=2, replace=False)
        suffix = _STREET_SUFFIXES[int(rng.choice(4, p=[0.35, 0.45, 0.1, 0.1]))]
        names[_PLACE_CHARS[a] + _PLACE_CHARS[b] + suffix] = None
    return tuple(names)


@cache
def place_stems(district_code: str) -> tuple[str, ...]:
    """Two-character place names (文华, 古荡) used for schools, parks, stations, streets."""
    return tuple(dict.fromkeys(name[:2] for name in street_names(district_code)))


# Trade names (字号) from Faker's company prefixes, without the city names and industry words
# some of them carry (济南亿次元, 图龙信息), which would clash with the industry added later.
_INDUSTRY_WORDS = ("计算机", "电子", "信息", "软件", "科技", "电脑", "数字", "国际", "公司")
_ELSEWHERE = ("济南", "黄石", "襄樊", "开发区")


def _trade_name(prefix: str) -> str | None:
    if any(c.isascii() for c in prefix):
        return None
    if any(prefix.startswith(c) for c in (*_ELSEWHERE, *FakerAddress.cities)):
        return None
    for word in _INDUSTRY_WORDS:
        prefix = prefix.removesuffix(word)
    return prefix if len(prefix) >= 2 else None


TRADE_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(t for p in FakerCompany.company_prefixes if (t := _trade_name(p)))
)
TRADE_CHARS = "鑫华泰恒博瑞源达信诚宏德盛安利兴天海新正明创通远卓越联合汇聚嘉祥云智优美丰"

# (industry as it appears in a name, what the business scope says): the first four are the
# industries of Faker's company suffixes.
INDUSTRIES: tuple[tuple[str, str], ...] = (
    *(
        (suffix.removesuffix("有限公司"), scope)
        for suffix, scope in zip(
            FakerCompany.company_suffixes,
            (
                "技术开发、技术服务、技术咨询、成果转让；软件开发；信息系统集成服务",
                "网络技术服务；互联网数据服务；网页设计；第二类增值电信业务",
                "信息技术咨询服务；数据处理和存储支持服务；信息系统运行维护服务",
                "广告设计、代理、制作、发布；文化艺术交流活动策划；影视节目制作",
            ),
            strict=True,
        )
    ),
    ("电子商务", "互联网销售（除销售需要许可的商品）；日用百货、服装服饰、电子产品销售"),
    ("贸易", "货物进出口；技术进出口；五金产品、建筑材料、化工产品（不含危险化学品）批发"),
    ("餐饮管理", "餐饮服务；食品经营（销售预包装食品）；餐饮管理；企业管理咨询"),
    ("建筑工程", "建设工程施工；建筑劳务分包；园林绿化工程施工；建筑装饰材料销售"),
    ("物流", "普通货物仓储服务；国内货物运输代理；道路货物运输（不含危险货物）"),
    ("服饰", "服装制造；服饰研发；针纺织品及原料销售；服装服饰零售"),
    ("生物医药", "医学研究和试验发展；第二类医疗器械销售；生物化工产品技术研发"),
    ("茶业", "初级农产品收购；茶叶种植；茶叶制品生产；食品销售（仅销售预包装食品）"),
    ("文化创意", "组织文化艺术交流活动；会议及展览服务；工艺美术品及收藏品零售"),
    ("机械制造", "通用设备制造；机械零件、零部件加工；专用设备修理；金属制品销售"),
    ("物业管理", "物业管理；停车场服务；家政服务；房地产经纪"),
    ("教育咨询", "教育咨询服务（不含涉许可审批的教育培训活动）；业务培训；文艺培训"),
)

SHOP_KINDS: tuple[tuple[str, str], ...] = (
    ("小吃店", "小吃服务；食品经营（销售散装食品）"),
    ("便利店", "日用百货、预包装食品、卷烟零售"),
    ("理发店", "理发服务；美容服务"),
    ("水果店", "水果、蔬菜零售"),
    ("五金店", "五金产品、日用杂品零售"),
    ("服装店", "服装服饰零售；鞋帽零售"),
    ("汽车维修部", "机动车修理和维护；汽车零配件零售"),
    ("茶叶店", "茶叶及茶具零售；预包装食品销售"),
    ("面馆", "餐饮服务；小吃服务"),
    ("打印店", "打字复印；图文设计制作"),
)

# Public institutions (name template, purpose) and social organisations by GB 32100 kind.
PUBLIC_INSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("{stem}小学", "实施小学义务教育，促进基础教育发展"),
    ("{stem}中学", "实施初中、高中学历教育，促进基础教育发展"),
    ("{stem}幼儿园", "实施学前教育，促进幼儿身心健康发展"),
    ("第{num}人民医院", "为人民身体健康提供医疗与护理保健服务"),
    ("疾病预防控制中心", "疾病预防与控制、卫生监测、健康教育"),
    ("{stem}街道社区卫生服务中心", "社区基本医疗与公共卫生服务"),
    ("图书馆", "文献信息收集、整理、保存与借阅服务"),
    ("档案馆", "档案收集、保管与利用服务"),
    ("公共资源交易中心", "为公共资源交易活动提供场所、信息和咨询服务"),
    ("数据资源管理中心", "公共数据归集、治理、共享与开放技术支撑"),
    ("社会福利院", "为孤寡老人、孤残儿童提供养护、康复服务"),
    ("文化馆", "组织群众文化活动，开展文艺培训与非遗保护"),
)
SOCIAL_ORGANIZATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "51": (
        ("{industry}行业协会", "行业自律、业务培训、交流合作、咨询服务"),
        ("{stem}商会", "为会员提供信息交流、法律咨询、合作对接服务"),
        ("{industry}学会", "学术交流、科学普及、人才培养"),
    ),
    "52": (
        ("{stem}{trade}培训学校", "文化艺术、体育技能培训（不含学科类培训）"),
        ("{stem}颐养院", "为老年人提供生活照料、康复护理服务"),
        ("{trade}社会工作服务中心", "社会工作服务、社区服务、志愿服务组织"),
    ),
    "53": (("{trade}慈善基金会", "资助扶贫济困、助学助医等公益慈善项目"),),
}
PARTNERSHIPS = (
    ("股权投资", "股权投资；创业投资（限投资未上市企业）"),
    ("投资管理", "投资管理；资产管理（未经金融等监管部门批准，不得从事向公众融资存款等金融业务）"),
    ("企业管理咨询", "企业管理咨询；信息咨询服务（不含许可类信息咨询服务）"),
)

UNIVERSITIES: tuple[str, ...] = (
    "浙江大学",
    "浙江工业大学",
    "杭州电子科技大学",
    "浙江工商大学",
    "杭州师范大学",
    "浙江理工大学",
    "中国美术学院",
    "浙江财经大学",
    "中国计量大学",
    "浙江中医药大学",
    "复旦大学",
    "南京大学",
    "武汉大学",
)
