"""The connector's file reader: CSV, Parquet and JSON Lines in, the resource's Arrow schema out."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from exchange.connector.reader import ReadError, detect_format, read_batches
from exchange.core.resource_schema import SCHEMAS_DIR, ResourceSchema, load_all, load_schema

SCHEMAS = load_all(SCHEMAS_DIR)
POPULATION = SCHEMAS["population"]
MACRO = SCHEMAS["macro_indicator"]


def person(i: int = 1, **overrides: str) -> dict[str, str]:
    row = {
        "id_number": f"03010119900101{i:04d}",
        "name": "张三",
        "gender": "1",
        "birth_date": "1990-01-01",
        "ethnicity": "汉族",
        "household_division": "330106000000",
        "address": "浙江省杭州市西湖区文三路1号",
        "phone": "13800000000",
        "status": "living",
    }
    return row | overrides


def indicator(i: int = 1, **overrides: str) -> dict[str, str]:
    row = {
        "indicator": "GDP",
        "division": "330106000000",
        "period": f"{2000 + i % 20}-{1 + i % 12:02d}",
        "value": f"{i}.5",
        "unit": "亿元",
        "source": "",
    }
    return row | overrides


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def read_table(path: Path, schema: ResourceSchema, **kwargs: Any) -> pa.Table:
    return pa.Table.from_batches(list(read_batches(path, schema, **kwargs)), schema.arrow_schema())


def read_error(path: Path, schema: ResourceSchema, **kwargs: Any) -> ReadError:
    with pytest.raises(ReadError) as caught:
        for _ in read_batches(path, schema, **kwargs):
            pass
    return caught.value


def test_the_same_people_read_identically_from_csv_parquet_and_jsonl(tmp_path: Path) -> None:
    rows = [person(1), person(2, ethnicity="", phone="", address="")]
    records: list[dict[str, Any]] = [dict(r) for r in rows]
    records[1] = {k: v for k, v in records[1].items() if v}  # absent keys are nulls too
    typed = pa.table(
        {
            **{k: [r[k] or None for r in rows] for k in rows[0] if k != "birth_date"},
            "birth_date": pa.array([dt.date(1990, 1, 1)] * 2, pa.date32()),
        }
    )
    pq.write_table(typed, tmp_path / "people.parquet")

    from_csv = read_table(write_csv(tmp_path / "people.csv", rows), POPULATION)
    from_jsonl = read_table(write_jsonl(tmp_path / "people.jsonl", records), POPULATION)
    from_parquet = read_table(tmp_path / "people.parquet", POPULATION)

    assert from_csv.equals(from_parquet) and from_csv.equals(from_jsonl)
    assert from_csv.schema.equals(POPULATION.arrow_schema(), check_metadata=True)
    assert from_csv.column("birth_date").to_pylist() == [dt.date(1990, 1, 1)] * 2
    assert from_csv.column("phone").to_pylist() == ["13800000000", None]


def test_numbers_read_identically_from_csv_parquet_and_jsonl(tmp_path: Path) -> None:
    rows = [indicator(1, value="1234.5"), indicator(2, value="-0.25"), indicator(3, value="7")]
    records = [{**r, "value": float(r["value"]), "source": None} for r in rows]
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "gdp.parquet")

    from_csv = read_table(write_csv(tmp_path / "gdp.csv", rows), MACRO)

    assert from_csv.column("value").to_pylist() == [1234.5, -0.25, 7.0]
    assert from_csv.equals(read_table(tmp_path / "gdp.parquet", MACRO))
    assert from_csv.equals(read_table(write_jsonl(tmp_path / "gdp.jsonl", records), MACRO))


def test_leading_zeros_in_codes_and_id_numbers_survive(tmp_path: Path) -> None:
    row = person(id_number="030101199001010012", household_division="000106000000", gender="0")

    table = read_table(write_csv(tmp_path / "people.csv", [row]), POPULATION)

    assert table.column("id_number").to_pylist() == ["030101199001010012"]
    assert table.column("household_division").to_pylist() == ["000106000000"]
    assert table.column("gender").to_pylist() == ["0"]


def test_an_id_number_stored_as_a_parquet_integer_is_refused(tmp_path: Path) -> None:
    people = pa.Table.from_pylist([person()]).set_column(
        0, "id_number", pa.array([30101], pa.int64())
    )
    pq.write_table(people, tmp_path / "people.parquet")

    err = read_error(tmp_path / "people.parquet", POPULATION)

    assert (err.row, err.field) == (None, "id_number")
    assert "must be stored as text" in str(err)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_an_error_row_is_counted_across_batch_boundaries(tmp_path: Path, fmt: str) -> None:
    rows = [person(i) for i in range(1, 1001)]
    rows[776]["birth_date"] = "1990-02-30"
    path = tmp_path / f"people.{fmt}"
    if fmt == "csv":
        write_csv(path, rows)
    elif fmt == "jsonl":
        write_jsonl(path, rows)
    else:
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=100)

    batches = read_batches(path, POPULATION, batch_rows=64)
    good = [next(batches) for _ in range(12)]  # 768 rows read fine before the bad one
    with pytest.raises(ReadError) as caught:
        next(batches)

    assert sum(b.num_rows for b in good) == 768
    assert (caught.value.row, caught.value.field, caught.value.value) == (
        778 if fmt == "csv" else 777,  # a CSV's header is line 1
        "birth_date",
        "1990-02-30",
    )


def test_the_millionth_row_is_reported_as_row_1000000(tmp_path: Path) -> None:
    n = 1_000_000
    table = pa.table(
        {
            "indicator": ["CPI"] * n,
            "division": ["330106000000"] * n,
            "period": ["2024-01"] * n,
            "value": [*["1.5"] * (n - 1), "1.5.1"],
            "unit": ["%"] * n,
        }
    )
    pacsv.write_csv(table, tmp_path / "cpi.csv")

    err = read_error(tmp_path / "cpi.csv", MACRO)

    assert (err.row, err.field, err.value) == (1_000_001, "value", "1.5.1")  # header: line 1


def test_a_bad_date_is_reported_with_path_row_field_and_value(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", [person(1), person(2, birth_date="1990-13-01")])

    err = read_error(path, POPULATION)

    assert (err.path, err.row, err.field, err.value) == (path, 3, "birth_date", "1990-13-01")
    assert str(err) == (
        f"{path} row 3, field birth_date: '1990-13-01' is not a date (expected YYYY-MM-DD)"
    )


def test_a_bad_number_is_reported_with_its_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gdp.csv", [indicator(1), indicator(2), indicator(3, value="1,5")])

    err = read_error(path, MACRO)

    assert (err.row, err.field, err.value) == (4, "value", "1,5")
    assert str(err).endswith("row 4, field value: '1,5' is not a number")


def test_a_missing_required_value_is_reported_with_its_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", [person(1), person(2), person(3, gender="")])

    err = read_error(path, POPULATION)

    assert (err.path, err.row, err.field, err.value) == (path, 4, "gender", None)
    assert "a value is required" in str(err)


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    row = person()
    del row["birth_date"]
    path = write_csv(tmp_path / "people.csv", [row])

    err = read_error(path, POPULATION)

    assert (err.path, err.row, err.field) == (path, None, "birth_date")
    assert str(err) == f"{path} field birth_date: column 'birth_date' is missing and is required"


def test_missing_optional_columns_read_as_nulls_and_order_does_not_matter(tmp_path: Path) -> None:
    row = person()
    for optional in ("ethnicity", "address", "phone"):
        del row[optional]
    shuffled = dict(reversed(row.items()))

    table = read_table(write_csv(tmp_path / "people.csv", [shuffled]), POPULATION)

    assert table.schema.names == POPULATION.field_names
    assert table.column("phone").to_pylist() == [None]
    assert table.column("id_number").to_pylist() == [row["id_number"]]


def test_an_unknown_column_is_refused_by_name(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", [person(remark="新增")])

    err = read_error(path, POPULATION)

    assert (err.row, err.field) == (None, "remark")
    assert "unknown column 'remark'" in str(err)


def test_an_unknown_jsonl_field_is_refused_with_its_row(tmp_path: Path) -> None:
    records = [person(i) for i in range(1, 30_001)]  # 8 MB: the bad row is in a later block
    records[28_999]["remark"] = "新增"
    path = write_jsonl(tmp_path / "people.jsonl", records)

    err = read_error(path, POPULATION)

    assert (err.row, err.field) == (29_000, "remark")
    assert "unknown field 'remark'" in str(err)


def test_a_jsonl_number_for_a_text_field_is_refused_with_its_row(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [person(1), person(2)]
    records[1]["household_division"] = 330106000000
    path = write_jsonl(tmp_path / "people.jsonl", records)

    err = read_error(path, POPULATION)

    assert (err.row, err.field, err.value) == (2, "household_division", "330106000000")
    assert "is a JSON number, expected a string" in str(err)


def test_a_line_that_is_not_json_is_reported_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    path.write_text(json.dumps(person(1)) + "\n\n" + "{'id_number': 1}\n", "utf-8")

    err = read_error(path, POPULATION)

    assert err.row == 2  # the blank line is not a record
    assert "is not valid JSON" in str(err)


def test_a_truncated_parquet_file_is_reported_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "people.parquet"
    pq.write_table(pa.Table.from_pylist([person(i) for i in range(100)]), path)
    path.write_bytes(path.read_bytes()[:-200])

    err = read_error(path, POPULATION)

    assert (err.path, err.row, err.field) == (path, None, None)
    assert "Parquet" in err.problem


def test_a_csv_row_with_too_many_values_is_reported_with_its_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", [person(1), person(2)])
    path.write_text(path.read_text("utf-8") + ",".join(person(3).values()) + ",extra\n", "utf-8")

    err = read_error(path, POPULATION)

    assert err.row == 4
    assert "has 10 values, the header 9 columns" in str(err)


def test_a_gbk_csv_read_as_utf8_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", [person(1), person(2, name="李四")], "gbk")

    err = read_error(path, POPULATION)

    assert (err.row, err.field) == (2, "name")
    assert "is not valid UTF-8" in str(err) and "gbk" in str(err)


def test_a_gbk_csv_reads_with_encoding_gbk(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", [person(1), person(2, name="李四")], "gbk")

    table = read_table(path, POPULATION, encoding="gbk")

    assert table.column("name").to_pylist() == ["张三", "李四"]
    assert table.column("address").to_pylist()[0] == "浙江省杭州市西湖区文三路1号"


def test_a_utf8_bom_does_not_hide_the_first_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", [person()], "utf-8-sig")

    assert read_table(path, POPULATION).column("id_number").to_pylist() == [person()["id_number"]]


@pytest.mark.parametrize("content", ["header", "header and blank lines"])
def test_a_csv_with_only_a_header_yields_no_batches(tmp_path: Path, content: str) -> None:
    header = ",".join(POPULATION.field_names)
    path = tmp_path / "people.csv"
    path.write_text(header if content == "header" else header + "\n\n\n", "utf-8")

    assert list(read_batches(path, POPULATION)) == []


def test_an_empty_csv_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"")

    err = read_error(path, POPULATION)

    assert (err.row, err.field) == (None, None)
    assert "empty" in str(err)


def test_a_long_bad_value_is_shortened_to_40_characters(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", [person(birth_date="1990-01-01" * 10)])

    err = read_error(path, POPULATION)

    assert err.value is not None and len(err.value) == 40 and err.value.endswith("...")


def test_the_format_is_told_by_suffix_or_by_content(tmp_path: Path) -> None:
    parquet = tmp_path / "export.dat"
    pq.write_table(pa.table({"a": [1]}), parquet)
    jsonl = tmp_path / "export.txt"
    jsonl.write_text('{"a": 1}\n', "utf-8")
    unknown = tmp_path / "export.xlsx"
    unknown.write_bytes(b"PK\x03\x04")

    assert detect_format(tmp_path / "x.CSV") == "csv"
    assert detect_format(tmp_path / "x.pq") == "parquet"
    assert detect_format(tmp_path / "x.ndjson") == "jsonl"
    assert (detect_format(parquet), detect_format(jsonl)) == ("parquet", "jsonl")
    with pytest.raises(ReadError, match="unknown file format"):
        detect_format(unknown)


INSPECTION = {
    "name": "inspection",
    "catalog": {
        "title": "检查记录",
        "abstract": "test resource covering every Table Schema type the hub supports",
        "classification": "主题信息资源/测试",
        "provider": "SC",
        "provider_name": "市场监管局",
        "share_class": "unconditional",
        "open_class": "closed",
        "update_cycle": "daily",
    },
    "fields": [
        {"name": "id", "type": "string", "constraints": {"required": True}},
        {"name": "visits", "type": "integer"},
        {"name": "passed", "type": "boolean"},
        {"name": "inspected_at", "type": "datetime"},
        {"name": "opens_at", "type": "time"},
        {"name": "since", "type": "year"},
    ],
    "primaryKey": ["id"],
}


@pytest.fixture
def inspection(tmp_path: Path) -> ResourceSchema:
    path = tmp_path / "inspection.json"
    path.write_text(json.dumps(INSPECTION), "utf-8")
    return load_schema(path)


def test_every_type_converts_from_text_and_naive_times_are_beijing_time(
    tmp_path: Path, inspection: ResourceSchema
) -> None:
    rows = [
        {
            "id": "a",
            "visits": "3",
            "passed": "true",
            "inspected_at": "2024-05-01T08:30:00",
            "opens_at": "09:15:00",
            "since": "1998",
        },
        {
            "id": "b",
            "visits": "-2",
            "passed": "0",
            "inspected_at": "2024-05-01 08:30:00Z",
            "opens_at": "",
            "since": "",
        },
    ]

    table = read_table(write_csv(tmp_path / "inspection.csv", rows), inspection)

    utc = dt.UTC
    assert table.to_pylist() == [
        {
            "id": "a",
            "visits": 3,
            "passed": True,
            "inspected_at": dt.datetime(2024, 5, 1, 0, 30, tzinfo=utc),
            "opens_at": dt.time(9, 15),
            "since": 1998,
        },
        {
            "id": "b",
            "visits": -2,
            "passed": False,
            "inspected_at": dt.datetime(2024, 5, 1, 8, 30, tzinfo=utc),
            "opens_at": None,
            "since": None,
        },
    ]


@pytest.mark.parametrize("bad", ["2.5", "0x10", "1e3", "七"])
def test_a_bad_integer_is_reported_with_its_row(
    tmp_path: Path, inspection: ResourceSchema, bad: str
) -> None:
    path = write_csv(
        tmp_path / "inspection.csv", [{"id": "a", "visits": "1"}, {"id": "b", "visits": bad}]
    )

    err = read_error(path, inspection)

    assert (err.row, err.field, err.value) == (3, "visits", bad)
    assert str(err).endswith(f"row 3, field visits: {bad!r} is not an integer")


def test_parquet_columns_are_cast_to_the_schema_types_when_safe(
    tmp_path: Path, inspection: ResourceSchema
) -> None:
    naive = dt.datetime(2024, 5, 1, 8, 30)
    source = pa.table(
        {
            "id": pa.array(["a"], pa.large_string()),
            "visits": pa.array([3], pa.int32()),
            "inspected_at": pa.array([naive], pa.timestamp("ns")),
            "since": pa.array([1998], pa.int16()),
        }
    )
    pq.write_table(source, tmp_path / "inspection.parquet")

    table = read_table(tmp_path / "inspection.parquet", inspection)

    assert table.schema.equals(inspection.arrow_schema())
    assert table.to_pylist()[0]["inspected_at"] == dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)


def test_a_parquet_value_that_does_not_fit_is_reported_with_its_row(
    tmp_path: Path, inspection: ResourceSchema
) -> None:
    source = pa.table({"id": ["a", "b", "c"], "visits": pa.array([1.0, 2.0, 2.5])})
    pq.write_table(source, tmp_path / "inspection.parquet")

    err = read_error(tmp_path / "inspection.parquet", inspection)

    assert (err.row, err.field, err.value) == (3, "visits", "2.5")


def test_a_parquet_column_of_an_impossible_type_is_refused_by_name(
    tmp_path: Path, inspection: ResourceSchema
) -> None:
    pq.write_table(pa.table({"id": ["a"], "passed": [dt.date(2024, 1, 1)]}), tmp_path / "x.parquet")

    err = read_error(tmp_path / "x.parquet", inspection)

    assert (err.row, err.field) == (None, "passed")
    assert "cannot be read as boolean" in str(err)


def test_an_op_column_marks_deletions_and_is_checked(tmp_path: Path) -> None:
    schema = load_all(SCHEMAS_DIR)["macro_indicator"]
    good = tmp_path / "ops.csv"
    good.write_text(
        "indicator,division,period,value,unit,_op\n"
        "GDP,330106000000,2023,1.0,亿元,\nGDP,330106000000,2022,1.0,亿元,delete\n"
    )
    (batch,) = list(read_batches(good, schema))
    assert batch.schema.names[-1] == "_op"
    assert batch.column("_op").to_pylist() == [None, "delete"]
    bad = tmp_path / "bad_ops.csv"
    bad.write_text("indicator,division,period,value,unit,_op\nGDP,330106000000,2023,1,亿元,drop\n")
    with pytest.raises(ReadError) as err:
        list(read_batches(bad, schema))
    assert err.value.row == 2 and err.value.field == "_op"
