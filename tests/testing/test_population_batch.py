"""The synthetic population batches used by the gate's tests and benchmark."""

from __future__ import annotations

from stdnum.cn import ric

from exchange.core import divisions
from exchange.testing.population_batch import population_schema, population_table


def test_synthetic_people_have_valid_distinct_id_numbers_that_agree_with_their_rows() -> None:
    table = population_table(3_000, seed=9)
    assert table.schema == population_schema().arrow_schema()
    rows = table.to_pylist()
    numbers = [r["id_number"] for r in rows]
    assert len(set(numbers)) == len(numbers)
    for row in rows:
        number = row["id_number"]
        # stdnum itself, minus its region-in-force-at-birth rule (see exchange.quality.identifiers)
        assert number[-1] == ric.calc_check_digit(number), number
        assert ric.get_birth_date(number) == row["birth_date"]
        assert row["gender"] == ("1" if int(number[16]) % 2 else "2")
        assert row["household_division"] == number[:6] + "000000"
        assert divisions.get(row["household_division"]) is not None


def test_the_same_seed_gives_the_same_batch() -> None:
    assert population_table(100, seed=3).equals(population_table(100, seed=3))
    assert not population_table(100, seed=3).equals(population_table(100, seed=4))
