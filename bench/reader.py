"""Throughput of the connector's reader on a generated 1,000,000-row population CSV.

Run: `.venv/bin/python -m bench.reader [ROWS]`. Generating the file takes a few seconds and is
not timed; the timed part is `read_batches` from file to batches of the resource's schema.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from exchange.connector.reader import read_batches
from exchange.core.resource_schema import SCHEMAS_DIR, load_all


def _pick(choices: list[str], n: int) -> pa.Array:
    index = pc.cast(pc.floor(pc.multiply(pc.random(n), len(choices))), pa.int32())
    return pc.take(pa.array(choices), index)


def _digits(width: int, n: int) -> pa.Array:
    numbers = pc.cast(pc.floor(pc.multiply(pc.random(n), 10**width)), pa.int64())
    return pc.utf8_lpad(pc.cast(numbers, pa.string()), width, "0")


def population_csv(path: Path, n: int) -> None:
    """Plausible rows, vectorised: leading-zero IDs, real division codes, some empty cells."""
    days = pc.cast(pc.floor(pc.multiply(pc.random(n), 36_500)), pa.int64())
    since_1970 = pc.cast(pc.subtract(days, 18_000), pa.int32())
    birth = pc.cast(pc.cast(since_1970, pa.date32()), pa.string())
    compact = pc.replace_substring(birth, "-", "")
    columns = {
        "id_number": pc.binary_join_element_wise(
            _pick(["330106", "330102", "030101"], n), compact, _digits(4, n), ""
        ),
        "name": pc.binary_join_element_wise(
            _pick(["张", "王", "李", "赵", "欧阳"], n), _pick(["伟", "芳", "秀英", "敏"], n), ""
        ),
        "gender": _pick(["1", "2"], n),
        "birth_date": birth,
        "ethnicity": _pick(["汉族", "汉族", "回族", ""], n),
        "household_division": _pick(["330106000000", "330102000000", "330110000000"], n),
        "address": pc.binary_join_element_wise(
            _pick(["浙江省杭州市西湖区文三路", "浙江省杭州市上城区解放路"], n),
            _digits(3, n),
            "号",
            "",
        ),
        "phone": pc.binary_join_element_wise(_pick(["138", "159", "186"], n), _digits(8, n), ""),
        "status": _pick(["living", "living", "deceased", "moved_out"], n),
    }
    pacsv.write_csv(pa.table(columns), path)


def main(rows: int = 1_000_000) -> None:
    schema = load_all(SCHEMAS_DIR)["population"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "population.csv"
        population_csv(path, rows)
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        read = sum(batch.num_rows for batch in read_batches(path, schema))
        elapsed = time.perf_counter() - started
    print(
        f"reader: {read:,} rows ({size_mb:.0f} MB CSV) in {elapsed:.2f} s = "
        f"{read / elapsed:,.0f} rows/s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
