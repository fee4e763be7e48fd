"""Public credit records (双公示 and red/black lists) on the people and legal persons generated."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from basebases.synthetic._common import (
    AS_OF_DAY,
    Place,
    add_years,
    build_table,
    column_days,
    dates,
    day_number,
    draw,
    living_adults,
    places_of,
    rng_for,
    ymd,
)

RECORD_TYPES = ("administrative_licence", "administrative_penalty", "red_list", "black_list")
_SHARES = {
    "legal_person": (0.5, 0.3, 0.12, 0.08),
    "natural_person": (0.35, 0.45, 0.05, 0.15),
}
_LP_SHARE = 0.7  # of records, the rest are on natural persons
# Public credit records as the hub keeps them start with the 双公示 rules of 2015.
_FIRST_DAY = day_number(dt.date(2016, 1, 1))

# (department, summary, years on record, at district level?) per (record type, subject kind).
# {amount} is a fine in 元, {number} a licence number, {city} the city's name.
_Rule = tuple[str, str, int, bool]
_RULES: dict[tuple[str, str], tuple[_Rule, ...]] = {
    ("administrative_licence", "legal_person"): (
        ("市场监督管理局", "食品经营许可（许可证编号：JY1{number}）准予许可", 5, True),
        ("生态环境局", "排污许可证核发（证书编号：{number}001V）", 5, False),
        ("住房和城乡建设局", "建筑工程施工许可（编号：{number}0101）", 3, True),
        ("卫生健康委员会", "公共场所卫生许可证核发（{number}号）", 4, True),
        ("交通运输局", "道路运输经营许可（浙交运管许可杭字{number}号）", 4, False),
    ),
    ("administrative_licence", "natural_person"): (
        ("交通运输局", "道路运输从业人员从业资格证核发", 6, False),
        ("卫生健康委员会", "医师执业注册（执业证书编码：{number}）", 5, False),
        ("规划和自然资源局", "乡村建设规划许可（乡字第{number}号）", 2, False),
    ),
    ("administrative_penalty", "legal_person"): (
        ("市场监督管理局", "违反《中华人民共和国食品安全法》，警告并罚款{amount}元", 1, True),
        ("生态环境局", "违反《中华人民共和国大气污染防治法》，罚款{amount}元", 3, False),
        ("城市管理局", "违反《{city}市容和环境卫生管理条例》，罚款{amount}元", 1, True),
        ("应急管理局", "违反《中华人民共和国安全生产法》，罚款{amount}元", 3, True),
        ("税务局", "未按照规定期限办理纳税申报和报送纳税资料，罚款{amount}元", 1, True),
    ),
    ("administrative_penalty", "natural_person"): (
        ("公安局", "违反《中华人民共和国治安管理处罚法》第二十六条，罚款{amount}元", 1, True),
        ("城市管理局", "违反《{city}市容和环境卫生管理条例》，罚款{amount}元", 1, True),
        ("交通运输局", "未取得道路运输经营许可擅自从事道路运输经营，罚款{amount}元", 1, False),
    ),
    ("red_list", "legal_person"): (
        ("税务局", "纳税信用A级纳税人", 2, False),
        ("人力资源和社会保障局", "劳动保障守法诚信等级A级", 3, False),
        ("发展和改革委员会", "守信联合激励对象", 3, False),
    ),
    ("red_list", "natural_person"): (
        ("卫生健康委员会", "无偿献血奉献奖获得者", 2, False),
        ("发展和改革委员会", "{city}诚信个人", 2, False),
    ),
    ("black_list", "legal_person"): (
        ("人民法院", "失信被执行人：有履行能力而拒不履行生效法律文书确定义务", 3, True),
        ("市场监督管理局", "列入严重违法失信名单：提交虚假材料取得登记", 3, False),
        ("税务局", "重大税收违法失信主体", 3, False),
        ("人力资源和社会保障局", "拖欠农民工工资失信联合惩戒对象", 3, False),
    ),
    ("black_list", "natural_person"): (
        ("人民法院", "失信被执行人：有履行能力而拒不履行生效法律文书确定义务", 3, True),
    ),
}


def credit_records(n: int, *, seed: int, people: pa.Table, legal_persons: pa.Table) -> pa.Table:
    """`n` records whose subjects are rows of `people` (adults) and `legal_persons`.

    Records fall between 2016 and the reference date, after the company was founded or the
    person came of age; each ends (valid_until) one to six years after its decision.
    """
    rng = rng_for(seed, "credit_record")
    ps, city_code = places_of(people, legal_persons)
    by_code = {p.code: i for i, p in enumerate(ps)}
    adults = living_adults(people) if people.num_rows else np.array([], dtype=np.int64)
    if len(adults) == 0 and legal_persons.num_rows == 0:
        raise ValueError("no subjects: both `people` (adults) and `legal_persons` are empty")
    share = 0.0 if legal_persons.num_rows == 0 else 1.0 if len(adults) == 0 else _LP_SHARE
    is_legal = rng.random(n) < share
    legal, natural = np.flatnonzero(is_legal), np.flatnonzero(~is_legal)

    subject = np.empty(n, dtype=object)
    division = np.empty(n, dtype=object)
    start = np.empty(n, dtype=np.int64)
    chosen = rng.integers(0, legal_persons.num_rows or 1, len(legal))
    subject[legal] = legal_persons["uscc"].to_numpy(zero_copy_only=False)[chosen]
    division[legal] = legal_persons["division"].to_numpy(zero_copy_only=False)[chosen]
    start[legal] = column_days(legal_persons, "established_on")[chosen]
    picked = adults[rng.integers(0, len(adults), len(natural))] if len(adults) else adults
    chosen = pa.array(picked, pa.int64())
    subject[natural] = people["id_number"].take(chosen).to_numpy(zero_copy_only=False)
    division[natural] = people["household_division"].take(chosen).to_numpy(zero_copy_only=False)
    start[natural] = add_years(column_days(people.take(chosen), "birth_date"), 18)
    start = np.clip(start, _FIRST_DAY, AS_OF_DAY)
    decided = start + (rng.random(n) * (AS_OF_DAY - start + 1)).astype(np.int64)

    kinds, types, authorities, summaries = [], [], [], []
    years_on_record = np.empty(n, dtype=np.int64)
    for i in range(n):
        kind = "legal_person" if is_legal[i] else "natural_person"
        rtype = RECORD_TYPES[draw(rng, _SHARES[kind])]
        rules = _RULES[rtype, kind]
        department, summary, years_on_record[i], local = rules[int(rng.integers(0, len(rules)))]
        place = ps[by_code[division[i]]] if division[i] in by_code else None
        kinds.append(kind)
        types.append(rtype)
        authorities.append(_authority(department, local, place, ps[0]))
        number = f"{(place or ps[0]).code[:6]}{rng.integers(0, 10**7):07d}"
        summaries.append(summary.format(city=ps[0].city, amount=_fine(rng, kind), number=number))
    year = ymd(decided)[0]
    return build_table(
        "credit_record",
        {
            "record_id": pa.array(
                [f"XY{city_code[:6]}{y}{i + 1:08d}" for i, y in enumerate(year)], pa.string()
            ),
            "subject_code": pa.array(subject, pa.string()),
            "subject_kind": pa.array(kinds, pa.string()),
            "record_type": pa.array(types, pa.string()),
            "authority": pa.array(authorities, pa.string()),
            "decided_on": dates(decided),
            "valid_until": dates(add_years(decided, years_on_record) - 1),
            "summary": pa.array(summaries, pa.string()),
        },
    )


def _authority(department: str, local: bool, place: Place | None, city: Place) -> str:
    """杭州市市场监督管理局, 杭州市西湖区市场监督管理局, 国家税务总局杭州市税务局, ..."""
    if department == "人民法院":
        return place.office("人民法院") if local and place else f"{city.city}中级人民法院"
    if department == "公安局":
        return place.police if local and place else f"{city.city}公安局"
    if local and place:
        # Districts run a health bureau (卫生健康局) where the city has a commission.
        name = place.office(department.replace("卫生健康委员会", "卫生健康局"))
    else:
        name = f"{city.city}{department}"
    return f"国家税务总局{name}" if department == "税务局" else name


def _fine(rng: np.random.Generator, kind: str) -> int:
    median = 20000 if kind == "legal_person" else 500
    return max(50, int(round(median * float(np.exp(rng.normal(0, 1.0))), -2)))
