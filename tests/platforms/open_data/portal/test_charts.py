from exchange.platforms.open_data.portal import charts
from tests.platforms.open_data.builders import SCHEMAS


def indicator_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for indicator, base in (("GDP", 1000.0), ("CPI", 100.0)):
        for year in range(2019, 2024):
            rows.append(_row(indicator, str(year), base + year - 2019, "亿元"))
            for q in range(1, 5):
                rows.append(_row(indicator, f"{year}Q{q}", base / 4 + q, "亿元"))
    return rows


def _row(indicator: str, period: str, value: float, unit: str) -> dict[str, object]:
    return {
        "indicator": indicator,
        "division": "330100000000",
        "period": period,
        "value": value,
        "unit": unit,
        "source": "统计局",
    }


def test_time_series_plots_one_series_at_its_most_common_granularity() -> None:
    chart = charts.time_series(SCHEMAS["macro_indicator"], indicator_rows())
    assert chart is not None and chart.kind == "line"
    assert chart.selected == "GDP|330100000000" and chart.title == "GDP · 杭州市（亿元）"
    assert chart.points == 20  # the quarters, not the 5 years mixed in
    assert [label for _, label in chart.options] == ["GDP · 杭州市", "CPI · 杭州市"]
    cpi = charts.time_series(SCHEMAS["macro_indicator"], indicator_rows(), "CPI|330100000000")
    assert cpi is not None and cpi.selected == "CPI|330100000000"
    unknown = charts.time_series(SCHEMAS["macro_indicator"], indicator_rows(), "nope")
    assert unknown is not None and unknown.selected == "GDP|330100000000"


def test_categories_count_an_enumerated_column() -> None:
    rows = [{"kind": k, "name": "x"} for k in ["school"] * 3 + ["park"]]
    chart = charts.categories(SCHEMAS["geo_address"], rows)
    assert chart is not None and chart.kind == "bar" and chart.points == 4
    assert ">school</text>" in chart.svg and ">3</text>" in chart.svg


def test_a_map_escapes_names_and_draws_landmarks_for_many_points() -> None:
    rows = [
        {"longitude": 120.1 + i / 100, "latitude": 30.2 + i / 200, "name": "<script>x</script>"}
        for i in range(40)
    ]
    chart = charts.point_map(SCHEMAS["geo_address"], rows, [(120.13, 30.26, "西湖区")])
    assert chart is not None and chart.points == 40
    assert "<script>" not in chart.svg and "&lt;script&gt;" in chart.svg
    assert ">西湖区</text>" in chart.svg and chart.svg.count('class="pt"') == 40


def test_no_chart_without_suitable_columns() -> None:
    assert charts.point_map(SCHEMAS["macro_indicator"], indicator_rows()) is None
    assert charts.time_series(SCHEMAS["geo_address"], [{"kind": "park"}]) is None
    assert charts.time_series(SCHEMAS["macro_indicator"], []) is None
